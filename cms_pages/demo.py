"""Demo content of one tenant: news, activities, a venue with rooms, resources, a live stream, a campaign.

Runs inside the tenant's schema (the caller's `schema_context`). Idempotent: nothing happens
when the news index already exists, so an editor's changes are never overwritten.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from wagtail.models import Page
from wagtail.rich_text import RichText

from .models import (
    ActivityIndexPage,
    ActivityPage,
    CampaignPage,
    HomePage,
    LiveStreamPage,
    NewsIndexPage,
    NewsPage,
    ResourceIndexPage,
    ResourcePage,
    VenueIndexPage,
    VenuePage,
    VenueRoom,
)


@dataclass(frozen=True)
class DemoVenue:
    title: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    phone: str


_VENUES = {
    "national": DemoVenue(
        "国家图书馆", "北京市海淀区中关村南大街33号", Decimal("39.943100"), Decimal("116.324700"), "010-88545426"
    ),
    "zhejiang": DemoVenue(
        "浙江图书馆", "浙江省杭州市西湖区曙光路73号", Decimal("30.270300"), Decimal("120.143800"), "0571-87988577"
    ),
    "sichuan": DemoVenue(
        "四川省图书馆", "四川省成都市青羊区人民中路一段6号", Decimal("30.667800"), Decimal("104.065400"), "028-86138010"
    ),
    "liaoning": DemoVenue(
        "辽宁省图书馆", "辽宁省沈阳市沈河区青年大街", Decimal("41.777900"), Decimal("123.432500"), "024-24823003"
    ),
    "dalian": DemoVenue(
        "大连市文化馆", "辽宁省大连市沙河口区西安路", Decimal("38.913500"), Decimal("121.593300"), "0411-84306000"
    ),
}


def _region(site_name: str, slug: str) -> str:
    """浙江文化云 → 浙江; the national portal speaks for the whole country."""
    if slug == "national":
        return "全国"
    return site_name.removesuffix("文化云").removesuffix("公共") or site_name


def _body(*paragraphs: str, heading: str = "", quote: tuple[str, str] | None = None) -> list:
    blocks: list = []
    if heading:
        blocks.append(("heading", heading))
    blocks += [("paragraph", RichText(f"<p>{text}</p>")) for text in paragraphs]
    if quote:
        blocks.append(("quote", {"text": quote[0], "attribution": quote[1]}))
    return blocks


def _publish(parent: Page, page: Page) -> Page:
    from .demo_local import attach_cover

    if parent.depth == 2:  # the sections under the home page make up the site's navigation
        page.show_in_menus = True
    attach_cover(page)  # every card has a cover: a poster in the site's colours (cms_pages.demo_images)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def seed_demo_content(site_name: str, slug: str) -> bool:
    """Create the demo pages under the tenant's home page; False when they already exist."""
    if NewsIndexPage.objects.exists():
        return False
    with transaction.atomic():
        _seed(HomePage.objects.get(), site_name, slug)
    return True


def _seed(home: HomePage, site_name: str, slug: str) -> None:  # noqa: PLR0915 - one straight script
    region = _region(site_name, slug)
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    today = timezone.localdate()

    def at(days: int, hour: int) -> datetime.datetime:
        return (now + datetime.timedelta(days=days)).replace(hour=hour)

    # --- news ------------------------------------------------------------------------------
    news = _publish(
        home,
        NewsIndexPage(title="新闻动态", slug="news", intro=f"<p>{site_name}的公共文化新闻与通知公告。</p>"),
    )
    _publish(
        news,
        NewsPage(
            title=f"{region}“网络书香过大年”阅读推广活动启动",
            slug="wangluo-shuxiang",
            date=today - datetime.timedelta(days=2),
            source=f"{site_name}编辑部",
            summary=f"春节期间，{region}各级公共图书馆推出电子书、有声书和线上讲座，群众在家即可免费阅读。",
            body=[
                *_body(
                    f"“网络书香过大年”是全民阅读的品牌活动。今年{region}各级公共图书馆联合推出精选电子书、"
                    "有声读物和“读给您听”栏目，读者注册文化云账号即可免费阅读。",
                    "活动期间还将举办线上读书分享会和“美好生活·读经典学新知”主题讲座。",
                    heading="足不出户，书香过年",
                    quote=("读书，是门槛最低的高贵。", "活动倡议书"),
                ),
                ("resource_list", {"title": "推荐阅读资源", "category": "reading", "count": 3}),
            ],
        ),
    )
    _publish(
        news,
        NewsPage(
            title=f"{region}公共文化云平台完成升级，新增场馆导航与活动预约",
            slug="platform-upgrade",
            date=today - datetime.timedelta(days=5),
            source=f"{site_name}",
            summary="新版平台统一服务界面，一个账号即可预约全省活动、查看场馆开放时间。",
            body=_body(
                f"按照公共数字文化工程“标准统一、互联互通”的要求，{site_name}完成平台升级，"
                "接入国家公共文化云统一用户认证。",
                "群众可以在手机上浏览场馆导航、预约活动座位，并通过取票码入场。",
            ),
        ),
    )
    _publish(
        news,
        NewsPage(
            title=f"{region}文化志愿服务“阳光工程”招募启动",
            slug="yangguang-gongcheng",
            date=today - datetime.timedelta(days=9),
            source=f"{region}文化馆",
            summary="面向社会招募文化志愿者，参与基层文艺辅导、图书馆阅读推广和非遗展演服务。",
            body=_body(
                "文化志愿服务“阳光工程”面向社会公开招募文化志愿者，重点服务基层和农村地区。",
                "报名者注册文化云账号并完成实名认证后，即可选择服务岗位和时段。",
            ),
        ),
    )

    # --- venue -----------------------------------------------------------------------------
    venues = _publish(
        home,
        VenueIndexPage(
            title="场馆导航", slug="venues", intro=f"<p>{region}公共图书馆、文化馆（站）的地址与开放时间。</p>"
        ),
    )
    spec = _VENUES.get(slug) or DemoVenue(f"{region}文化馆", f"{region}市民文化中心", None, None, "")
    venue = VenuePage(
        title=spec.title,
        slug="main-venue",
        address=spec.address,
        latitude=spec.latitude,
        longitude=spec.longitude,
        phone=spec.phone,
        opening_hours="周二至周日 9:00–20:30\n周一闭馆（法定节假日除外）",
        accessibility="无障碍坡道与电梯\n无障碍卫生间\n视障阅览室（盲文图书、助视器）\n轮椅借用服务",
        summary=f"{region}的公共文化服务场馆，免费开放，提供阅览、展览、讲座与培训。",
        body=_body("场馆免费向公众开放，进馆请出示身份证件或文化云电子读者证。"),
    )
    venue.rooms = [
        VenueRoom(name="多功能报告厅", capacity=300, description="可举办讲座、演出和公开课，配备投影与音响。"),
        VenueRoom(name="非遗传习室", capacity=40, description="用于剪纸、年画、戏曲等非遗项目的体验与培训。"),
    ]
    _publish(venues, venue)

    # --- activities ------------------------------------------------------------------------
    activities = _publish(
        home,
        ActivityIndexPage(
            title="活动预约", slug="activities", intro=f"<p>{region}近期公共文化活动，部分活动需在线预约。</p>"
        ),
    )
    _publish(
        activities,
        ActivityPage(
            title=f"全国广场舞展演·{region}赛区",
            slug="guangchangwu",
            start=at(7, 19),
            end=at(7, 21),
            location_note="市民广场",
            category="performance",
            audience="all",
            organiser=f"{region}文化馆",
            summary="各地广场舞队伍同台展演，现场观演免费，无需预约。",
            body=_body("全国广场舞展演是群众文化活动的品牌项目，展示基层群众健康向上的精神风貌。"),
        ),
    )
    _publish(
        activities,
        ActivityPage(
            title="图书馆公开课：从甲骨文到简帛——汉字的故事",
            slug="gongkaike",
            start=at(10, 14),
            end=at(10, 16),
            venue=venue,
            location_note="多功能报告厅",
            category="lecture",
            audience="adults",
            organiser=spec.title,
            booking_enabled=True,
            capacity=200,
            per_person_limit=2,
            summary="图书馆公开课邀请古文字学者讲述汉字的演变，现场名额有限，请提前预约。",
            body=_body("本期图书馆公开课结合馆藏碑帖精华，带领读者了解汉字从甲骨文到楷书的演变。"),
        ),
    )
    _publish(
        activities,
        ActivityPage(
            title="戏曲进校园：经典选段演出与体验",
            slug="xiqu-jin-xiaoyuan",
            start=at(14, 9),
            end=at(14, 11),
            venue=venue,
            location_note="非遗传习室",
            category="intangible",
            audience="children",
            organiser=f"{region}百姓戏曲馆",
            booking_enabled=True,
            capacity=40,
            per_person_limit=1,
            requires_approval=True,
            summary="专业演员带来经典戏曲选段，并教孩子们体验身段、脸谱，面向学校团体预约。",
            body=_body("戏曲进校园让青少年近距离感受中华优秀传统文化，本场面向中小学团体，预约需审核。"),
        ),
    )

    # --- resources -------------------------------------------------------------------------
    resources = _publish(
        home,
        ResourceIndexPage(title="数字资源", slug="resources", intro="<p>视频、音频、电子书和图集，免费在线欣赏。</p>"),
    )
    _publish(
        resources,
        ResourcePage(
            title=f"百姓大舞台·{region}专场",
            slug="baixing-dawutai",
            kind="video",
            category="art",
            stream_url="https://www.culturedc.cn/baixingdawutai/",
            duration=datetime.timedelta(hours=1, minutes=32),
            summary="群众自编自演的歌舞、曲艺和器乐节目，展现基层文化风采。",
            body=_body("百姓大舞台是群众展示才艺的舞台，本专场节目均由基层文艺团队表演。"),
            creator=f"{region}文化馆",
            subject="群众文艺；广场舞；曲艺",
            description="百姓大舞台专场演出全程录像。",
            publisher=site_name,
            contributor="基层文艺团队",
            date=today - datetime.timedelta(days=30),
            type="MovingImage",
            format="video/mp4",
            language="zh",
            coverage=region,
            rights=f"© {site_name}，仅供公益性非商业使用",
        ),
    )
    _publish(
        resources,
        ResourcePage(
            title="网络书香过大年：经典诵读精选",
            slug="shuxiang-guonian",
            kind="ebook",
            category="reading",
            summary="春节阅读推广精选篇目，配有“读给您听”朗读音频。",
            body=_body("本书精选古今名篇二十篇，适合全家共读。", heading="导读"),
            creator="全民阅读推广委员会",
            subject="全民阅读；经典诵读；春节",
            description="“网络书香过大年”活动推荐电子读物。",
            publisher=site_name,
            date=today - datetime.timedelta(days=20),
            type="Text",
            format="application/epub+zip",
            language="zh",
            relation="网络书香过大年",
            rights="公益使用，请勿转载",
        ),
    )
    _publish(
        resources,
        ResourcePage(
            title="年画里的中国年",
            slug="nianhua",
            kind="image_set",
            category="tradition",
            summary="杨柳青、桃花坞、朱仙镇等木版年画精品图集。",
            body=_body("木版年画是国家级非物质文化遗产，本图集收录多个年画产地的代表作品。"),
            creator="中国记忆项目组",
            subject="年画；非物质文化遗产；春节习俗",
            description="木版年画精品数字图集。",
            publisher=site_name,
            contributor=f"{region}非遗保护中心",
            date=today - datetime.timedelta(days=60),
            type="StillImage",
            format="image/jpeg",
            source="中国记忆",
            language="zh",
            coverage="中国",
            rights="图片版权归原收藏单位所有",
        ),
    )

    # --- live stream and campaign ----------------------------------------------------------
    live_title = "文津图书奖颁奖典礼直播" if slug == "national" else f"云上群星奖·{region}优秀群众文艺作品展演"
    _publish(
        home,
        LiveStreamPage(
            title=live_title,
            slug="live",
            intro="线上同步直播，回放将在直播结束后上线。",
            start=at(3, 19),
            end=at(3, 21),
            stream_url="https://live.culturedc.cn/",
            summary="不出家门，观看高水平公共文化活动直播。",
        ),
    )
    if slug == "dalian":
        title, intro = (
            "“唱大连、爱大连、舞动大连”广场舞大赛",
            "全市广场舞队伍报名参赛，市民在线为喜爱的队伍投票。",
        )
    else:
        title, intro = (
            f"{region}“群文杯”原创歌曲大赛",
            f"征集反映{region}新时代新风貌的原创歌曲，群众在线投票评选人气作品。",
        )
    _publish(
        home,
        CampaignPage(
            title=title,
            slug="campaign",
            intro=intro,
            start=at(-1, 9),
            end=at(30, 18),
            rules="<ul><li>每人每天限投两票，可投给不同作品。</li><li>投票需登录文化云账号。</li>"
            "<li>严禁刷票，一经发现取消参评资格。</li></ul>",
            daily_vote_limit=2,
            summary=intro,
        ),
    )


def seed_policy_pages(site_name: str, contact: str) -> int:
    """The site's 隐私政策 (/privacy/) and 用户协议 (/user-agreement/) pages (accounts.policies), each
    created once: an existing page, whatever an editor made of it, is left alone. Returns how many
    were created."""
    from accounts.policies import TITLES
    from accounts.policy_texts import sections

    from .models import StandardPage

    home = HomePage.objects.get(locale__language_code="zh-hans")
    created = 0
    for kind, title in TITLES.items():
        if Page.objects.filter(depth=home.depth + 1, slug=kind, path__startswith=home.path).exists():
            continue
        body: list = [("paragraph", RichText(f"<p>欢迎使用{site_name}。请您仔细阅读本{title}。</p>"))]
        for heading, paragraphs in sections(kind, site_name, contact):
            body += _body(*paragraphs, heading=heading)
        page = StandardPage(title=f"{site_name}{title}", slug=kind, summary=f"{site_name}的{title}。", body=body)
        home.add_child(instance=page)
        page.save_revision().publish()
        created += 1
    return created
