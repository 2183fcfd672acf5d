"""Each demo site's own content, drawn from its own culture, and the cover posters of every card.

cms_pages.demo makes what every site shares (the national programmes: 网络书香过大年, 图书馆公开课,
戏曲进校园, 百姓大舞台 ...); this module adds what only that site has — 浙江: 越剧, 龙泉青瓷, 西湖;
四川: 川剧, 蜀绣, 三星堆; 辽宁: 海洋文化, 辽宁鼓乐; 大连: the 广场舞大赛 and the “群文杯”; the national
portal: 云上群星奖 and 文津图书奖 — with venues at real addresses (WGS-84 coordinates, ~100 m).

Idempotent: a page is created only when its slug is not there yet, a cover only for a page
without one; the posters (cms_pages.demo_images) are drawn once and their bytes cached in
var/demo/posters, so a second provisioning changes nothing and a new test database is quick.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .demo_images import MOTIF_NAMES, poster

_CACHE = Path(settings.BASE_DIR) / "var" / "demo" / "posters"
COLLECTION_NAME = "演示封面"


@dataclass(frozen=True)
class Local:
    colours: tuple[str, str]  # primary, accent (#RRGGBB): the site's branding and its posters
    motifs: tuple[str, ...]  # the patterns that suit the place (cms_pages.demo_images.MOTIFS)
    news: tuple[dict, ...] = ()
    activities: tuple[dict, ...] = ()
    resources: tuple[dict, ...] = ()
    venues: tuple[dict, ...] = field(default_factory=tuple)


def _d(lat: str, lon: str) -> dict:
    return {"latitude": Decimal(lat), "longitude": Decimal(lon)}


LOCAL: dict[str, Local] = {
    "national": Local(
        colours=("#B22222", "#C8A060"),
        motifs=("clouds", "medallion", "lattice"),
        news=(
            {
                "slug": "yunshang-qunxingjiang",
                "days": 1,
                "title": "“云上群星奖”上线：第十九届群星奖入围作品在线展播",
                "summary": "音乐、舞蹈、戏剧、曲艺四个门类入围作品全程录像上线，观众可在线观看并为喜爱的作品点赞。",
                "body": (
                    "群星奖是全国群众文艺领域的政府最高奖。“云上群星奖”将入围作品的决赛录像、主创访谈和幕后故事汇集上线，"
                    "让没能到现场的群众也能欣赏到来自基层的优秀群众文艺作品。",
                    "栏目设入围作品、群星奖直播、背后的故事和主创说四个板块，各省级文化云同步转载。",
                ),
            },
            {
                "slug": "wenjin-tushujiang",
                "days": 4,
                "title": "第二十届文津图书奖评选结果揭晓",
                "summary": "10种图书获文津图书奖，另有推荐图书49种，颁奖典礼将在国家图书馆举行并网络直播。",
                "body": (
                    "文津图书奖由国家图书馆联合全国公共图书馆共同举办，是面向大众阅读的公益性图书奖项。",
                    "获奖图书涵盖社科、科普和少儿三大类，全国公共图书馆将同步开展获奖图书阅读推广活动。",
                ),
            },
        ),
        activities=(
            {
                "slug": "wenjin-dujiang",
                "days": 12,
                "hour": 14,
                "title": "文津读书沙龙：获奖图书作者见面会",
                "category": "reading",
                "audience": "adults",
                "location_note": "国家图书馆",
                "summary": "文津图书奖获奖图书作者与读者面对面，分享写作故事，现场签售。",
                "body": ("本期读书沙龙邀请两位获奖作者，讲述从选题到成书的经历，现场设读者提问环节。",),
            },
            {
                "slug": "qunxing-zhanyan",
                "days": 20,
                "hour": 19,
                "title": "“群星耀中华”群星奖获奖作品巡演（北京站）",
                "category": "performance",
                "audience": "all",
                "venue_slug": "guojia-dajuyuan",
                "location_note": "国家大剧院",
                "summary": "群星奖获奖舞蹈、音乐和曲艺作品集中巡演，免费观演。",
                "body": ("巡演精选第十九届群星奖获奖作品十二个，展现新时代群众文艺创作成果。",),
            },
        ),
        resources=(
            {
                "slug": "qunxingjiang-juesai",
                "days": 15,
                "title": "第十九届群星奖决赛·舞蹈门类（全场录像）",
                "kind": "video",
                "category": "art",
                "minutes": 128,
                "summary": "群星奖舞蹈门类决赛全场录像，二十支入围作品依次登台。",
                "subject": "群星奖；群众舞蹈；决赛",
            },
            {
                "slug": "wenjin-shumu",
                "days": 6,
                "title": "文津图书奖获奖及推荐图书书目（电子版）",
                "kind": "ebook",
                "category": "reading",
                "summary": "历届文津图书奖获奖与推荐图书的书目和导读，可在线阅读。",
                "subject": "文津图书奖；全民阅读；书目",
            },
        ),
        venues=(
            {
                "slug": "guojia-dajuyuan",
                "title": "国家大剧院",
                "address": "北京市西城区西长安街2号",
                **_d("39.903700", "116.384200"),
                "opening_hours": "演出日 9:30–22:30\n参观时间以官方公告为准",
                "summary": "国家表演艺术中心，群星奖获奖作品巡演北京站在此举行。",
            },
        ),
    ),
    "zhejiang": Local(
        colours=("#1F6B5C", "#8FB9A8"),  # celadon (龙泉青瓷) and West Lake green
        motifs=("crackle", "waves", "lattice"),
        news=(
            {
                "slug": "longquan-qingci-zhan",
                "days": 1,
                "title": "“千峰翠色”龙泉青瓷精品展在杭州开展",
                "summary": "展出宋元至当代龙泉青瓷一百二十余件，梅子青、粉青釉色与冰裂纹开片一次看全。",
                "body": (
                    "龙泉青瓷烧制技艺是人类非物质文化遗产代表作。本次展览以“千峰翠色”为题，按时代陈列宋元龙泉窑精品、"
                    "明清外销瓷和当代名家新作。",
                    "展期内每周六下午安排龙泉窑工艺师现场演示拉坯、施釉，观众可预约参观。",
                ),
            },
            {
                "slug": "yueju-jingdian-xinchang",
                "days": 3,
                "title": "越剧经典唱段“云端学唱”栏目上线",
                "summary": "尹派、袁派、范派等越剧流派名段逐句教唱，手机上就能跟着学。",
                "body": (
                    "越剧发源于浙江嵊州，是全国第二大剧种。“云端学唱”栏目邀请越剧名家逐句示范《梁山伯与祝英台》"
                    "《红楼梦》等经典名段，附唱词和曲谱。",
                    "学员可上传自己的学唱录音，优秀作品将在年底的越剧票友汇演中展示。",
                ),
            },
        ),
        activities=(
            {
                "slug": "yueju-piaoyou",
                "days": 9,
                "hour": 19,
                "title": "越剧票友汇演：流派名段专场",
                "category": "performance",
                "audience": "all",
                "location_note": "浙江胜利剧院",
                "summary": "全省越剧票友同台演唱流派名段，免费观演，无需预约。",
                "body": ("汇演由越剧名家现场点评，演唱曲目涵盖越剧十三个流派。",),
            },
            {
                "slug": "qingci-tiyan",
                "days": 16,
                "hour": 10,
                "title": "龙泉青瓷拉坯体验课（亲子）",
                "category": "intangible",
                "audience": "families",
                "venue_slug": "zhejiang-bowuguan",
                "location_note": "孤山馆区 青瓷体验区",
                "summary": "跟着龙泉窑工艺师学拉坯、修坯，作品烧成后邮寄到家。",
                "body": ("每组家庭一名成人陪同一名儿童，课程约九十分钟，材料免费提供。",),
            },
        ),
        resources=(
            {
                "slug": "xihu-shijing",
                "days": 10,
                "title": "西湖十景：四季影像",
                "kind": "image_set",
                "category": "tourism",
                "summary": "苏堤春晓、曲院风荷、平湖秋月、断桥残雪——西湖十景的四季影像与诗词。",
                "subject": "西湖；西湖十景；世界文化遗产",
            },
            {
                "slug": "yueju-liangzhu",
                "days": 25,
                "title": "越剧《梁山伯与祝英台》经典选段",
                "kind": "audio",
                "category": "tradition",
                "minutes": 46,
                "summary": "“十八相送”“楼台会”等经典选段录音，附唱词。",
                "subject": "越剧；梁祝；传统剧目",
            },
        ),
        venues=(
            {
                "slug": "zhejiang-bowuguan",
                "title": "浙江省博物馆（孤山馆区）",
                "address": "浙江省杭州市西湖区孤山路25号",
                **_d("30.253600", "120.143100"),
                "opening_hours": "周二至周日 9:00–17:00（16:00停止入馆）\n周一闭馆（法定节假日除外）",
                "summary": "坐落在西湖孤山，收藏龙泉青瓷、越窑青瓷等浙江历代珍品。",
            },
        ),
    ),
    "sichuan": Local(
        colours=("#8C2F39", "#E0B15C"),  # 蜀锦 red and gold
        motifs=("medallion", "clouds", "lattice"),
        news=(
            {
                "slug": "sanxingdui-shuzi",
                "days": 1,
                "title": "三星堆数字展厅上线：青铜神树、纵目面具可360度观看",
                "summary": "三星堆祭祀区新出土文物的高清三维模型上线，群众足不出户“云逛”古蜀文明。",
                "body": (
                    "三星堆遗址是古蜀文明的代表。数字展厅收录青铜神树、青铜纵目面具、金面具等文物的三维模型和考古发掘影像。",
                    "展厅还配有考古专家讲解音频和青少年版导览，适合家庭共同观看。",
                ),
            },
            {
                "slug": "shuxiu-chuancheng",
                "days": 6,
                "title": "蜀绣技艺培训班结业，六十名学员完成百日研习",
                "summary": "来自全省的绣娘在成都完成百日研习，作品将在年底集中展出。",
                "body": (
                    "蜀绣是中国四大名绣之一，以针法多变、色彩明丽著称。研习班由蜀绣代表性传承人授课，"
                    "学员掌握了晕针、滚针等十余种针法。",
                ),
            },
        ),
        activities=(
            {
                "slug": "chuanju-bianlian",
                "days": 8,
                "hour": 19,
                "title": "川剧折子戏专场：变脸、吐火与高腔",
                "category": "performance",
                "audience": "all",
                "venue_slug": "jinjiang-juchang",
                "location_note": "锦江剧场",
                "summary": "《白蛇传》《秋江》等川剧经典折子戏，变脸、吐火绝技现场呈现。",
                "body": ("演出前半小时有川剧知识导赏，介绍昆、高、胡、弹、灯五种声腔。",),
            },
            {
                "slug": "shuxiu-tiyan",
                "days": 13,
                "hour": 14,
                "title": "蜀绣体验课：绣一枚芙蓉花书签",
                "category": "intangible",
                "audience": "youth",
                "venue_slug": "sichuan-bowuyuan",
                "location_note": "四川博物院 社教活动室",
                "summary": "跟着蜀绣老师学基础针法，绣一枚成都市花芙蓉书签带回家。",
                "body": ("课程面向十二岁以上青少年，针线材料免费提供。",),
            },
        ),
        resources=(
            {
                "slug": "sanxingdui-jiangtan",
                "days": 12,
                "title": "三星堆考古讲坛：古蜀文明之谜",
                "kind": "video",
                "category": "tradition",
                "minutes": 58,
                "summary": "考古学家讲述三星堆祭祀坑的发现与新进展。",
                "subject": "三星堆；古蜀文明；考古",
            },
            {
                "slug": "shuxiu-zhenfa",
                "days": 30,
                "title": "蜀绣针法图谱",
                "kind": "image_set",
                "category": "tradition",
                "summary": "蜀绣常用针法分步图解，附代表作品赏析。",
                "subject": "蜀绣；刺绣；非物质文化遗产",
            },
        ),
        venues=(
            {
                "slug": "sichuan-bowuyuan",
                "title": "四川博物院",
                "address": "四川省成都市青羊区浣花南路251号",
                **_d("30.660400", "104.031700"),
                "opening_hours": "周二至周日 9:00–17:00（16:00停止入馆）\n周一闭馆（法定节假日除外）",
                "summary": "四川省综合性博物馆，藏有蜀绣、巴蜀青铜器和张大千书画等珍品。",
            },
            {
                "slug": "jinjiang-juchang",
                "title": "锦江剧场（川剧艺术中心）",
                "address": "四川省成都市锦江区华兴正街54号",
                **_d("30.658400", "104.079700"),
                "opening_hours": "演出日 19:00 开演，18:30 检票入场",
                "summary": "川剧演出的老字号剧场，常年上演川剧折子戏和变脸表演。",
            },
        ),
    ),
    "liaoning": Local(
        colours=("#1F4E79", "#7FB3D5"),  # the Bohai and Yellow Sea
        motifs=("waves", "clouds", "medallion"),
        news=(
            {
                "slug": "haiyang-wenhua-zhou",
                "days": 2,
                "title": "辽宁海洋文化周开幕，沿海六市联动展示渔家民俗",
                "summary": "大连、丹东、锦州、营口、盘锦、葫芦岛同步举办渔家号子、海洋民俗展览和非遗市集。",
                "body": (
                    "辽宁拥有两千多公里海岸线。海洋文化周以“向海而兴”为主题，集中展示渔家号子、渔民画、"
                    "海洋民俗和沿海非物质文化遗产。",
                ),
            },
            {
                "slug": "liaoning-guyue",
                "days": 7,
                "title": "辽宁鼓乐进校园：百所学校开设鼓乐兴趣课",
                "summary": "国家级非遗辽宁鼓乐走进中小学，传承唢呐与鼓乐合奏技艺。",
                "body": (
                    "辽宁鼓乐是流传于辽宁各地的民间吹打乐，以唢呐为主奏乐器，曲牌丰富、气势恢宏。",
                    "项目由各地文化馆组织鼓乐艺人授课，学期末举办全省展演。",
                ),
            },
        ),
        activities=(
            {
                "slug": "guyue-zhanyan",
                "days": 11,
                "hour": 15,
                "title": "辽宁鼓乐专场音乐会",
                "category": "performance",
                "audience": "all",
                "venue_slug": "liaoning-bowuguan",
                "location_note": "辽宁省博物馆 学术报告厅",
                "summary": "唢呐、笙管与鼓乐合奏，演奏《大姑娘美》《江河水》等传统曲牌。",
                "body": ("音乐会由省内鼓乐传承团体演出，并有演奏者讲解曲牌来历。",),
            },
            {
                "slug": "yumin-hua",
                "days": 18,
                "hour": 9,
                "title": "渔民画创作体验营",
                "category": "training",
                "audience": "families",
                "location_note": "葫芦岛市兴城海滨",
                "summary": "跟着渔民画家写生大海，用明快色彩画出渔家生活。",
                "body": ("体验营为期一天，画材免费提供，作品将在海洋文化周展出。",),
            },
        ),
        resources=(
            {
                "slug": "haiyang-minsu",
                "days": 9,
                "title": "辽宁海洋民俗影像志",
                "kind": "video",
                "category": "tradition",
                "minutes": 42,
                "summary": "记录辽东半岛渔村的开海节、祭海仪式与渔家号子。",
                "subject": "海洋文化；渔家民俗；辽宁",
            },
            {
                "slug": "guyue-qupai",
                "days": 21,
                "title": "辽宁鼓乐经典曲牌选",
                "kind": "audio",
                "category": "tradition",
                "minutes": 37,
                "summary": "辽宁鼓乐传统曲牌录音二十首，附曲牌说明。",
                "subject": "辽宁鼓乐；唢呐；民间音乐",
            },
        ),
        venues=(
            {
                "slug": "liaoning-bowuguan",
                "title": "辽宁省博物馆",
                "address": "辽宁省沈阳市浑南区智慧三街157号",
                **_d("41.715000", "123.447600"),
                "opening_hours": "周二至周日 9:00–17:00（16:00停止入馆）\n周一闭馆（法定节假日除外）",
                "summary": "辽宁省综合性历史艺术博物馆，免费开放。",
            },
        ),
    ),
    "dalian": Local(
        colours=("#0B5C8A", "#F2B134"),  # sea blue and the sun over 星海湾
        motifs=("waves", "clouds", "crackle"),
        news=(
            {
                "slug": "guangchangwu-dasai-qidong",
                "days": 1,
                "title": "“唱大连、爱大连、舞动大连”广场舞大赛报名启动",
                "summary": "全市各区县（先导区）广场舞队伍即日起报名，复赛、决赛在星海广场举行。",
                "body": (
                    "大赛由大连市文化主管部门主办、市群众艺术馆和各区县文体部门承办，鼓励队伍选用《大连之恋》"
                    "《大连我永远的爱》等歌唱大连的原创作品编排。",
                    "市民可在文化云为喜爱的队伍投票，人气最高的队伍获“最受欢迎团队”称号。",
                ),
            },
            {
                "slug": "qunwenbei-yuanchuang",
                "days": 5,
                "title": "“群文杯”原创歌曲大赛征稿开始",
                "summary": "征集歌唱大连、反映滨城新生活的原创歌曲，专业评审与网络投票共同评选。",
                "body": (
                    "“群文杯”原创歌曲大赛是大连市群众艺术馆的品牌活动。作品须为近两年创作、未公开发表的原创歌曲，"
                    "词曲作者和演唱者不限年龄与职业。",
                ),
            },
        ),
        activities=(
            {
                "slug": "guangchangwu-juesai",
                "days": 15,
                "hour": 18,
                "title": "广场舞大赛决赛：星海广场巅峰之夜",
                "category": "contest",
                "audience": "all",
                "venue_slug": "xinghai-guangchang",
                "location_note": "星海广场 中央舞台区",
                "summary": "十六支决赛队伍同场竞技，争夺“大连市广场舞舞王”称号，现场免费观赛。",
                "body": ("决赛当晚设大众评审席，市民可现场扫码为喜爱的队伍助威。",),
            },
            {
                "slug": "haiyang-wenhua-jiangzuo",
                "days": 10,
                "hour": 14,
                "title": "海洋文化讲座：从旅顺口到星海湾",
                "category": "lecture",
                "audience": "adults",
                "venue_slug": "dalian-xiandai-bowuguan",
                "location_note": "大连现代博物馆 报告厅",
                "summary": "文史专家讲述大连的港口、渔业与城市记忆。",
                "body": ("讲座结合老照片和馆藏文物，讲述大连因海而生、向海而兴的历史。",),
            },
        ),
        resources=(
            {
                "slug": "dalian-zhilian",
                "days": 8,
                "title": "广场舞《大连之恋》教学视频",
                "kind": "video",
                "category": "art",
                "minutes": 24,
                "summary": "分解动作逐段教学，大连人自己的广场舞一学就会。",
                "subject": "广场舞；大连之恋；群众舞蹈",
            },
            {
                "slug": "qunwenbei-zuopin",
                "days": 40,
                "title": "历届“群文杯”原创歌曲获奖作品集",
                "kind": "audio",
                "category": "art",
                "minutes": 55,
                "summary": "收录历届“群文杯”原创歌曲大赛获奖作品十五首。",
                "subject": "群文杯；原创歌曲；群众音乐",
            },
        ),
        venues=(
            {
                "slug": "xinghai-guangchang",
                "title": "星海广场",
                "address": "辽宁省大连市沙河口区中山路与星海广场交汇处",
                **_d("38.879200", "121.587500"),
                "opening_hours": "全天开放",
                "summary": "亚洲最大的城市广场之一，广场舞大赛复赛、决赛举办地。",
            },
            {
                "slug": "dalian-xiandai-bowuguan",
                "title": "大连现代博物馆",
                "address": "辽宁省大连市沙河口区会展路10号",
                **_d("38.882600", "121.579700"),
                "opening_hours": "周二至周日 9:00–16:30\n周一闭馆（法定节假日除外）",
                "summary": "展示大连近现代城市发展历程与海洋文化的综合性博物馆。",
            },
        ),
    ),
}
DEFAULT = Local(colours=("#B22222", "#C8A060"), motifs=("clouds", "lattice", "medallion"))
CARD_MODELS = ("NewsPage", "ActivityPage", "ResourcePage", "VenuePage", "LiveStreamPage", "CampaignPage")


def local(schema: str | None = None) -> Local:
    return LOCAL.get(schema or connection.schema_name, DEFAULT)


# --- posters -----------------------------------------------------------------------------


def _collection():
    from wagtail.models import Collection

    root = Collection.get_first_root_node()
    existing = root.get_children().filter(name=COLLECTION_NAME).first()
    return existing or root.add_child(name=COLLECTION_NAME)


def poster_bytes(seed: str, colours: tuple[str, str], motif: str) -> bytes:
    """The poster for `seed`, drawn once per (seed, colours, motif) and then read from var/demo/posters."""
    key = hashlib.sha256(f"v2|{seed}|{colours}|{motif}".encode()).hexdigest()[:24]
    path = _CACHE / f"{key}.jpg"
    if path.exists():
        return path.read_bytes()
    data = poster(seed, colours, motif)
    try:
        _CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError:
        pass  # a read-only checkout: draw again next time
    return data


def cover_for(page, collection=None):
    """A new Wagtail image for `page`: the site's colours and a motif of the place, seeded by the slug."""
    import random

    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    spec = local()
    seed = f"{connection.schema_name}/{page.slug}"
    motif = random.Random(seed).choice(spec.motifs)  # noqa: S311 - art
    data = poster_bytes(seed, spec.colours, motif)
    import io

    image = get_image_model()(
        title=f"{page.title}（{MOTIF_NAMES[motif]}纹样封面）",
        file=ImageFile(io.BytesIO(data), name=f"cover-{page.slug}.jpg"),
        collection=collection or _collection(),
    )
    image.save()
    return image


def attach_cover(page) -> None:
    """Give a page about to be created its cover (no extra revision)."""
    if type(page).__name__ in CARD_MODELS and getattr(page, "cover_image_id", None) is None:
        page.cover_image = cover_for(page)


def ensure_covers() -> int:
    """Every local card page without a cover gets one (pages made before covers existed, pages
    other apps' demos created); pulled copies keep their origin's. Returns how many were added."""
    from . import models

    added = 0
    collection = None
    for name in CARD_MODELS:
        model = getattr(models, name)
        pages = model.objects.filter(cover_image__isnull=True, locale__language_code="zh-hans")
        if hasattr(model, "original_url"):
            pages = pages.filter(original_url="")
        for page in pages:
            collection = collection or _collection()
            with transaction.atomic():
                page.cover_image = cover_for(page, collection)
                revision = page.save_revision()
                if page.live:
                    revision.publish()
            added += 1
    return added


# --- the site's own pages ----------------------------------------------------------------


def _demo_stream_url() -> str:
    """The video and audio resources play the demo world's own HLS (live.demo, drawn by ffmpeg),
    served from this site's media: no third-party address."""
    from core.urls_util import current_site_base_url
    from live.demo import ensure_demo_stream

    path = ensure_demo_stream()
    return f"{current_site_base_url().rstrip('/')}{path}" if path else "https://www.culturedc.cn/"


def seed_local_content(site_name: str) -> int:
    """Create this site's own news, activities, resources and venues (those not there yet)."""
    from wagtail.rich_text import RichText

    from .demo import _body
    from .models import (
        ActivityIndexPage,
        ActivityPage,
        NewsIndexPage,
        NewsPage,
        ResourceIndexPage,
        ResourcePage,
        VenueIndexPage,
        VenuePage,
    )

    spec = LOCAL.get(connection.schema_name)
    if spec is None:
        return 0
    today = timezone.localdate()
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    region = site_name.removesuffix("文化云") if connection.schema_name != "national" else "全国"
    created = 0

    def index(model):
        return model.objects.filter(locale__language_code="zh-hans").first()

    def add(parent, page) -> None:
        nonlocal created
        if parent is None or parent.get_children().filter(slug=page.slug).exists():
            return
        attach_cover(page)
        parent.add_child(instance=page)
        page.save_revision().publish()
        created += 1

    with transaction.atomic():
        venues = index(VenueIndexPage)
        for v in spec.venues:
            add(
                venues,
                VenuePage(
                    title=v["title"],
                    slug=v["slug"],
                    address=v["address"],
                    latitude=v["latitude"],
                    longitude=v["longitude"],
                    opening_hours=v["opening_hours"],
                    accessibility="无障碍通道\n无障碍卫生间\n轮椅借用服务",
                    summary=v["summary"],
                    body=_body(v["summary"], "免费开放，请以场馆当日公告为准。"),
                ),
            )
        news = index(NewsIndexPage)
        for n in spec.news:
            add(
                news,
                NewsPage(
                    title=n["title"],
                    slug=n["slug"],
                    date=today - datetime.timedelta(days=n["days"]),
                    source=f"{site_name}编辑部",
                    summary=n["summary"],
                    body=_body(*n["body"]),
                ),
            )
        activities = index(ActivityIndexPage)
        for a in spec.activities:
            venue = VenuePage.objects.filter(slug=a.get("venue_slug", "-")).first()
            start = (now + datetime.timedelta(days=a["days"])).replace(hour=a["hour"])
            booking = a.get("booking") or {}
            add(
                activities,
                ActivityPage(
                    title=a["title"],
                    slug=a["slug"],
                    start=start,
                    end=start + datetime.timedelta(hours=2),
                    venue=venue,
                    location_note=a["location_note"],
                    category=a["category"],
                    audience=a["audience"],
                    organiser=f"{region}公共文化服务中心" if venue is None else venue.title,
                    booking_enabled=bool(booking),
                    capacity=booking.get("capacity"),
                    per_person_limit=booking.get("per_person_limit", 1),
                    summary=a["summary"],
                    body=_body(*a["body"]),
                ),
            )
        resources = index(ResourceIndexPage)
        stream = _demo_stream_url() if any(r["kind"] in ("video", "audio") for r in spec.resources) else ""
        formats = {"video": ("MovingImage", "video/mp4"), "audio": ("Sound", "audio/mpeg")}
        formats |= {"ebook": ("Text", "application/epub+zip"), "image_set": ("StillImage", "image/jpeg")}
        for r in spec.resources:
            dc_type, dc_format = formats[r["kind"]]
            add(
                resources,
                ResourcePage(
                    title=r["title"],
                    slug=r["slug"],
                    kind=r["kind"],
                    category=r["category"],
                    duration=datetime.timedelta(minutes=r["minutes"]) if r.get("minutes") else None,
                    stream_url=stream if r["kind"] in ("video", "audio") else "",
                    summary=r["summary"],
                    body=[("paragraph", RichText(f"<p>{r['summary']}</p>"))],
                    creator=f"{region}公共文化服务中心",
                    subject=r["subject"],
                    description=r["summary"],
                    publisher=site_name,
                    date=today - datetime.timedelta(days=r["days"]),
                    type=dc_type,
                    format=dc_format,
                    language="zh",
                    coverage=region,
                    rights=f"© {site_name}，仅供公益性非商业使用",
                ),
            )
    return created
