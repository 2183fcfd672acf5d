"""Demo languages: every page in Traditional Chinese (OpenCC, kept in sync), English home and
section pages on the national site and 浙江 (through wagtail-localize), Tibetan (藏文, bo) on 四川.

Idempotent: a page already translated and newer than its source is left as it is.
"""

from __future__ import annotations

from django.db import transaction
from django_tenants.utils import schema_context
from wagtail.models import Locale, Page

from . import services

# English of the demo's home and section pages, by site: (Chinese source text → English).
_SECTIONS = {
    "新闻动态": "News",
    "场馆导航": "Venues",
    "活动预约": "Events",
    "数字资源": "Digital resources",
    "视频、音频、电子书和图集，免费在线欣赏。": "Videos, audio, e-books and image sets, free to enjoy online.",
}
ENGLISH = {
    "national": {
        "国家公共文化云": "National Public Culture Cloud",
        "国家公共文化云汇聚全国各级公共文化机构的数字资源与服务：百姓大舞台、全国广场舞展演、"
        "网络书香过大年、图书馆公开课，一站直达。": "The National Public Culture Cloud brings together the digital "
        "resources and services of public cultural institutions across China: the People's Stage, the national "
        "square dance showcase, Reading Online for the New Year and open lectures from libraries, all in one place.",
        "国家公共文化云的公共文化新闻与通知公告。": "Public culture news and announcements of the National Public "
        "Culture Cloud.",
        "全国公共图书馆、文化馆（站）的地址与开放时间。": "Addresses and opening hours of public libraries and "
        "cultural centres across China.",
        "全国近期公共文化活动，部分活动需在线预约。": "Upcoming public cultural events across China; some need "
        "booking online.",
        **_SECTIONS,
    },
    "zhejiang": {
        "浙江文化云": "Zhejiang Culture Cloud",
        "浙江省公共数字文化服务平台：活动预约、场馆导航、在线培训与“戏曲进校园”等特色资源。": "Zhejiang's public "
        "digital culture service: event booking, a guide to venues, online training and featured resources "
        "such as Opera in Schools.",
        "浙江文化云的公共文化新闻与通知公告。": "Public culture news and announcements of Zhejiang Culture Cloud.",
        "浙江公共图书馆、文化馆（站）的地址与开放时间。": "Addresses and opening hours of public libraries and "
        "cultural centres in Zhejiang.",
        "浙江近期公共文化活动，部分活动需在线预约。": "Upcoming public cultural events in Zhejiang; some need "
        "booking online.",
        **_SECTIONS,
    },
}
# The sites' names on their English pages (branding, themes.models.Branding.site_name_en).
ENGLISH_SITE_NAMES = {
    "national": "National Public Culture Cloud",
    "zhejiang": "Zhejiang Culture Cloud",
    "sichuan": "Sichuan Culture Cloud",
    "liaoning": "Liaoning Culture Cloud",
    "dalian": "Dalian Culture Cloud",
}
# 四川: Tibetan (bo) switched on, the home page translated (to be reviewed by a Tibetan editor).
TIBETAN_SITE = "sichuan"
TIBETAN = {
    "四川文化云": "སི་ཁྲོན་རིག་གནས་སྤྲིན།",
    "四川省公共文化云：天府文化、非物质文化遗产展演、“乡村春晚”网络联动与数字方志。": "སི་ཁྲོན་ཞིང་ཆེན་གྱི་སྤྱི་པའི་རིག་གནས་སྤྲིན། "
    "ཐེན་ཧྥུའི་རིག་གནས་དང་། དངོས་མེད་རིག་གནས་ཤུལ་བཞག་གི་འགྲེམས་སྟོན། གྲོང་གསེབ་ལོ་གསར་དགོང་མོའི་འཁྲབ་སྟོན།",
}


def _home_and_sections() -> list[Page]:
    from cms_pages.models import HomePage

    home = HomePage.objects.filter(locale__language_code="zh-hans").first()
    if home is None:
        return []
    return [home, *home.get_children().live().filter(depth=home.depth + 1).specific().order_by("path")[:4]]


def _name_site_in_english(name: str) -> None:
    """Fill in the English site name of the site's branding, unless an editor already has."""
    from wagtail.models import Site

    from themes.models import Branding

    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    if site is None:
        return
    branding = Branding.for_site(site)
    if not branding.site_name_en:
        branding.site_name_en = name
        branding.save(update_fields=["site_name_en"])


def provision_languages(sites: list[str] | None = None) -> None:
    """Run for every demo site (or the given schemas)."""
    from tenants.demo import DEMO_SITES

    for demo in DEMO_SITES:
        if sites is not None and demo.slug not in sites:
            continue
        with schema_context(demo.slug):
            if demo.slug in ENGLISH_SITE_NAMES:
                _name_site_in_english(ENGLISH_SITE_NAMES[demo.slug])
            services.sync_traditional_site()
            if demo.slug in ENGLISH:
                for page in _home_and_sections():
                    services.translate_page(page, "en", ENGLISH[demo.slug])
            if demo.slug == TIBETAN_SITE:
                with transaction.atomic():
                    Locale.objects.get_or_create(language_code="bo")
                home = _home_and_sections()[:1]
                for page in home:
                    services.translate_page(page, "bo", TIBETAN)
