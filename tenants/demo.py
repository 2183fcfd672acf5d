"""The demo world of PRODUCT.md: the national portal, provinces and a city, with logins.

Idempotent: a second run creates nothing and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_tenants.utils import schema_context

from accounts.services import ensure_account

from . import services
from .models import CultureSite

DEMO_PASSWORD = "Wenhua-2026"  # noqa: S105 - published demo login, see README
OPERATOR = ("operator", "Operator-2026")


@dataclass(frozen=True)
class DemoSite:
    slug: str
    name: str
    kind: str
    region_code: str
    parent: str | None
    intro: str
    extra_domains: tuple[str, ...] = ()
    # The operator's choice of primary public host (default: <slug>.<platform domain>).
    primary_domain: str = ""


DEMO_SITES = (
    DemoSite(
        "national",
        "国家公共文化云",
        "national",
        "100000",
        None,
        "国家公共文化云汇聚全国各级公共文化机构的数字资源与服务：百姓大舞台、全国广场舞展演、"
        "网络书香过大年、图书馆公开课，一站直达。",
    ),
    DemoSite(
        "zhejiang",
        "浙江文化云",
        "province",
        "330000",
        "national",
        "浙江省公共数字文化服务平台：活动预约、场馆导航、在线培训与“戏曲进校园”等特色资源。",
    ),
    DemoSite(
        "sichuan",
        "四川文化云",
        "province",
        "510000",
        "national",
        "四川省公共文化云：天府文化、非物质文化遗产展演、“乡村春晚”网络联动与数字方志。",
    ),
    DemoSite(
        "liaoning",
        "辽宁文化云",
        "province",
        "210000",
        "national",
        "辽宁省公共文化云：全省图书馆、文化馆的数字资源与文化志愿服务“阳光工程”。",
    ),
    DemoSite(
        "dalian",
        "大连文化云",
        "city",
        "210200",
        "liaoning",
        "大连市公共文化云：“唱大连、爱大连、舞动大连”广场舞大赛、社区文化生活馆与百姓戏曲馆。",
        ("dalian-culture.localhost",),
        primary_domain="dalian-culture.localhost",
    ),
)

DEMO_ROLES = (("admin", "站点管理员"), ("editor", "编辑"), ("moderator", "审核员"))


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(site name, role, username, password) for the README and `make run`'s banner."""
    rows = [("全平台", "平台运营（超级管理员）", OPERATOR[0], OPERATOR[1])]
    for site in DEMO_SITES:
        for suffix, role in DEMO_ROLES:
            rows.append((site.name, role, f"{site.slug}_{suffix}", DEMO_PASSWORD))
    return rows


def provision_demo(stdout=None) -> list[CultureSite]:
    services.ensure_platform_tenant()
    services.ensure_template()
    ensure_account(*OPERATOR, display_name="平台运营", is_superuser=True)
    sites = []
    for demo in DEMO_SITES:
        site = CultureSite.objects.filter(schema_name=demo.slug).first()
        if site is None:
            site = services.create_culture_site(
                services.NewSite(
                    slug=demo.slug,
                    name=demo.name,
                    kind=demo.kind,
                    region_code=demo.region_code,
                    parent_slug=demo.parent,
                    extra_domains=list(demo.extra_domains),
                )
            )
            if stdout:
                stdout.write(f"created {demo.slug}")
        _set_public_address(site, demo)
        from federation.services import link_site_to_national

        link_site_to_national(site)  # idempotent: demo worlds made before federation get linked
        _seed_demo_content(site, demo)
        _share_with_national(site)
        sites.append(site)
    _feature_on_national()
    _subscribe_to_national(DEMO_SUBSCRIBER)
    _report_statistics(sites)
    from training.demo import seed_training_demo

    seed_training_demo(DEMO_PASSWORD)  # a national course pulled by the provinces, trainees, hours
    from feedback.demo import seed_feedback_demo

    for site in sites:  # after training: ratings need completed courses, attended activities, hours
        with schema_context(site.schema_name):
            seed_feedback_demo(site.schema_name)  # ratings (some answered, published), demand requests
    from accounts.oidc import ensure_site_client

    ensure_site_client()  # callback URLs of the demo's own-domain site (dalian-culture.localhost)
    return sites


def _report_statistics(sites: list[CultureSite]) -> None:
    """Each province and city reports its seeded daily totals to the national dashboard now."""
    from stats.demo import report_demo_statistics

    for site in sites:
        if site.kind != "national":
            with schema_context(site.schema_name):
                report_demo_statistics()


def _set_public_address(site: CultureSite, demo: DemoSite) -> None:
    """The demo's own-domain city is public on its own domain; every site has a contact address."""
    primary = demo.primary_domain or services.platform_hostname(demo.slug)
    current = site.domains.filter(is_primary=True).values_list("domain", flat=True).first()
    if current != primary:
        services.set_primary_address(site.schema_name, primary)
    email = f"contact@{primary}"
    if site.contact_email != email:
        services.set_contact_email(site.schema_name, email)
        site.contact_email = email


def _share_with_national(site: CultureSite) -> None:
    """Provinces and cities push their resources and activities: the national catalogue is full."""
    from wagtail.models import Site

    from federation import services as federation
    from federation.models import FederationSettings

    if site.kind not in CultureSite.REPORTING_KINDS:
        return
    with schema_context(site.schema_name):
        with transaction.atomic():
            policy = FederationSettings.for_site(Site.objects.get(is_default_site=True))
            if not (policy.push_resources and policy.push_activities):
                policy.push_resources = policy.push_activities = True
                policy.save()
            federation.push_existing(["resource", "activity"])
        federation.deliver_pending()


# The demo site that pulls the national cloud's resources (published automatically), so a visitor
# sees pulled copies; the others show only their own.
DEMO_SUBSCRIBER = "liaoning"
FEATURED_ON_NATIONAL = 6


def _feature_on_national() -> None:
    """National editors' picks on the national home page (各地精选): a resource from each origin.

    Only when nothing is featured yet, so the national editors' own choices stay.
    """
    from federation import services as federation
    from federation.models import Record

    national = CultureSite.objects.filter(kind=CultureSite.Kind.NATIONAL).first()
    if national is None:
        return
    with schema_context(national.schema_name), transaction.atomic():
        if Record.objects.filter(featured=True).exists():
            return
        picks, origins = [], set()
        live = Record.objects.filter(is_local=False, status=Record.Status.LIVE, kind="resource").order_by("seq")
        for record in live:
            if record.origin_code not in origins:
                origins.add(record.origin_code)
                picks.append(record)
        for record in picks[:FEATURED_ON_NATIONAL]:
            federation.set_featured(record, True)


def _subscribe_to_national(slug: str) -> None:
    """`slug` subscribes to the national resources (once) and pulls them."""
    from cms_pages.models import ResourceIndexPage
    from federation import pull
    from federation.models import Subscription
    from federation.services import uplink

    site = CultureSite.objects.filter(schema_name=slug).first()
    if site is None:
        return
    with schema_context(site.schema_name):
        peer = uplink()
        parent = ResourceIndexPage.objects.filter(locale__language_code="zh-hans").first()
        if peer is None or parent is None:
            return
        subscription = Subscription.objects.filter(set_spec="national-resources").first()
        if subscription is None:
            subscription = pull.subscribe(
                peer=peer,
                set_spec="national-resources",
                parent_page=parent,
                policy=Subscription.Policy.UPDATE_UNLESS_MODIFIED,
                auto_publish=True,
                name="国家数字资源",
            )
        pull.sync_subscription(subscription)


def _seed_demo_content(site: CultureSite, demo: DemoSite) -> None:
    from cms_pages.models import HomePage
    from roles.services import grant_role

    users = [
        (ensure_account(f"{demo.slug}_{suffix}", DEMO_PASSWORD, display_name=f"{demo.name}{role}"), role)
        for suffix, role in DEMO_ROLES
    ]
    with schema_context(site.schema_name), transaction.atomic():
        for user, role in users:
            grant_role(user, role)
        home = HomePage.objects.get(locale__language_code="zh-hans")
        if not home.intro:  # never overwrite what an editor wrote
            home.intro = f"<p>{demo.intro}</p>"
            home.save_revision().publish()
        from cms_pages.demo import seed_demo_content

        seed_demo_content(demo.name, demo.slug)  # news, activities, venue, resources, live, campaign
        from cms_pages.demo import seed_policy_pages

        seed_policy_pages(demo.name, site.contact_email)  # /privacy/ and /user-agreement/ (accounts.policies)
        from cms_pages.demo_local import seed_local_content

        seed_local_content(demo.name)  # this site's own culture: 越剧, 川剧, 海洋文化, 广场舞大赛 ...
        _brand(demo)
        from bookings.demo import seed_bookings

        seed_bookings(demo.slug, demo.region_code)  # sessions, bookings in each state, bookable rooms
        from volunteers.demo import seed_volunteers

        seed_volunteers(demo.name, demo.slug)  # teams, opportunities, shifts, hours, a certificate
        from campaigns.demo import seed_campaign_demo
        from live.demo import seed_live_demo

        seed_live_demo(demo.slug)  # a stream live now with comments, a replay (demo HLS)
        seed_campaign_demo(demo.slug)  # entries with posters, votes
        from stats.demo import seed_statistics

        seed_statistics(demo.slug)  # three months of daily roll-ups for the dashboards
        from cms_pages.demo_local import ensure_covers

        ensure_covers()  # a cover on every card, pages other demos made included


def _brand(demo: DemoSite) -> None:
    """The site's own colours (cms_pages.demo_local), while its branding still has the theme's defaults."""
    from wagtail.models import Site

    from cms_pages.demo_local import local
    from themes.models import Branding

    branding = Branding.for_site(Site.objects.get(is_default_site=True))
    defaults = (Branding._meta.get_field("primary_colour").default, Branding._meta.get_field("accent_colour").default)
    colours = local(demo.slug).colours
    if (branding.primary_colour, branding.accent_colour) == defaults and colours != defaults:
        branding.primary_colour, branding.accent_colour = colours
        if not branding.site_name:
            branding.site_name = demo.name
        branding.save()
