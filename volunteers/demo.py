"""Demo volunteers for the demo world (called from tenants/demo.py inside a tenant's schema).

Idempotent: everything is found by a stable name (usernames, team names, page slugs, shift
times on fixed dates relative to the first run) and only created when missing.
"""

from __future__ import annotations

import datetime
import zlib

from django.utils import timezone

from accounts.services import ensure_account

from .models import HourRecord, OpportunityIndexPage, OpportunityPage, Shift, SignUp, Team, TeamMembership, Volunteer

# Tenants whose demo has volunteers (the 阳光工程 provinces and a city).
VOLUNTEER_SITES = ("zhejiang", "liaoning", "dalian")

# (username suffix, name, approved hours imported from earlier years, skills)
DEMO_VOLUNTEERS = [
    ("volunteer", "王晓梅", 96, ["guide", "reading"]),
    ("vol_01", "陈志强", 130, ["performance", "order"]),
    ("vol_02", "刘芳", 320, ["teaching", "reading"]),
    ("vol_03", "赵建华", 640, ["guide", "photography"]),
    ("vol_04", "孙丽娟", 1050, ["first_aid", "order"]),
    ("vol_05", "周文博", 1520, ["guide", "foreign_language"]),
    ("vol_06", "吴静", 12, ["sign_language"]),
    ("vol_07", "郑海涛", 0, ["it", "photography"]),
]
ALL_SLOTS = [f"{d}_{p}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for p in ("am", "pm", "eve")]
IMPORTED_REASON = "历年服务时长（自全国志愿服务信息系统导入）"

OPPORTUNITIES = [
    (
        "library-guide",
        "图书馆周末导读服务",
        "为读者提供借阅指引、阅读推广与少儿绘本共读。",
        "省图书馆一楼服务台",
        "阅读推广服务队",
        False,
    ),
    (
        "museum-docent",
        "博物馆展厅讲解",
        "为观众讲解常设展览，周末加开亲子专场。",
        "省博物馆二楼",
        "文博讲解服务队",
        False,
    ),
    (
        "festival-support",
        "春节群众文化活动保障",
        "大型群众文化活动的引导、秩序维护与应急救护，报名需审核。",
        "市民广场",
        None,
        True,
    ),
]


def _demo_user(slug: str, suffix: str, name: str):
    from django.contrib.auth import get_user_model

    from tenants.demo import DEMO_PASSWORD

    user = ensure_account(f"{slug}_{suffix}", DEMO_PASSWORD, display_name=name)
    return get_user_model().objects.get(pk=user.pk)


def seed_volunteers(site_name: str, slug: str) -> None:
    if slug not in VOLUNTEER_SITES:
        return
    from cms_pages.models import HomePage
    from roles.services import grant_role

    from . import services

    coordinator = _demo_user(slug, "volunteer_coordinator", f"{site_name}志愿者管理员")
    grant_role(coordinator, "志愿者管理员")

    volunteers = {}
    for index, (suffix, name, imported_hours, skills) in enumerate(DEMO_VOLUNTEERS):
        user = _demo_user(slug, suffix, name)
        volunteer = Volunteer.objects.filter(user=user).first()
        if volunteer is None:
            volunteer = services.apply(
                user,
                real_name=name,
                mobile=f"139{index:04d}{zlib.crc32(slug.encode()) % 10000:04d}",
                emergency_contact_name="张建国",
                emergency_contact_phone="13800138000",
                consent=True,
                skills=skills,
                availability=ALL_SLOTS,
                service_areas=f"{site_name}全域",
            )
            volunteer = services.decide_application(volunteer, approve=True, decided_by=coordinator)
            if imported_hours:
                HourRecord.objects.create(
                    volunteer=volunteer,
                    kind=HourRecord.Kind.MAKEUP,
                    minutes=imported_hours * 60,
                    served_on=timezone.localdate() - datetime.timedelta(days=400),
                    status=HourRecord.Status.APPROVED,
                    reason=IMPORTED_REASON,
                    decided_at=timezone.now(),
                    decided_by=coordinator,
                )
                Volunteer.objects.filter(pk=volunteer.pk).update(approved_minutes=imported_hours * 60)
        volunteers[suffix] = volunteer
    # One pending application for the coordinator's dashboard.
    applicant = _demo_user(slug, "applicant", "林小雨")
    if not Volunteer.objects.filter(user=applicant).exists():
        services.apply(
            applicant,
            real_name="林小雨",
            mobile="13700137000",
            emergency_contact_name="林大海",
            emergency_contact_phone="13700137001",
            consent=True,
            skills=["reading"],
            availability=["sat_am", "sun_am"],
        )

    teams = {}
    for team_name, leader, members in [
        ("阅读推广服务队", "vol_02", ["volunteer", "vol_06"]),
        ("文博讲解服务队", "vol_03", ["vol_05", "vol_01"]),
    ]:
        team, _ = Team.objects.get_or_create(name=team_name, defaults={"description": f"{site_name}{team_name}"})
        TeamMembership.objects.get_or_create(team=team, volunteer=volunteers[leader], defaults={"is_leader": True})
        for member in members:
            TeamMembership.objects.get_or_create(team=team, volunteer=volunteers[member])
        teams[team_name] = team

    home = HomePage.objects.get(locale__language_code="zh-hans")
    index = OpportunityIndexPage.objects.filter(slug="volunteering").first()
    if index is None:
        index = home.add_child(
            instance=OpportunityIndexPage(
                title="志愿服务",
                slug="volunteering",
                intro="<p>文化志愿服务“阳光工程”：欢迎加入我们，服务身边的群众。</p>",
            )
        )
        index.save_revision().publish()
    pages = {}
    for page_slug, title, summary, place, team_name, approval in OPPORTUNITIES:
        page = OpportunityPage.objects.filter(slug=page_slug).first()
        if page is None:
            page = OpportunityPage(
                title=title,
                slug=page_slug,
                summary=summary,
                body=f"<p>{summary}</p>",
                place=place,
                team=teams.get(team_name),
                requires_approval=approval,
            )
            index.add_child(instance=page)
            page.save_revision().publish()
        pages[page_slug] = page

    if not Shift.objects.exists():
        _seed_shifts(pages, volunteers, coordinator)

    from certificates.models import Certificate

    holder = volunteers["vol_03"]
    if not Certificate.objects.filter(reference=f"volunteers.Volunteer:{holder.pk}").exists():
        services.issue_service_certificate(Volunteer.objects.get(pk=holder.pk), by=coordinator)


def _seed_shifts(pages, volunteers, coordinator) -> None:
    """Upcoming shifts (some short of people) and past ones with checked, make-up and pending hours."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)

    def at(days: int, hour: int) -> datetime.datetime:
        return today + datetime.timedelta(days=days, hours=hour)

    def make(page_slug: str, days: int, hour: int, hours: int, capacity: int, skills=()) -> Shift:
        return Shift.objects.create(
            opportunity=pages[page_slug],
            starts_at=at(days, hour),
            ends_at=at(days, hour + hours),
            place=pages[page_slug].place,
            capacity=capacity,
            required_skills=list(skills),
        )

    upcoming = [
        make("library-guide", 3, 9, 3, 4),
        make("library-guide", 10, 14, 3, 4),
        make("museum-docent", 5, 9, 4, 6, ["guide"]),
        make("festival-support", 20, 18, 4, 20, ["order"]),
    ]
    for shift, people in [(upcoming[0], ["volunteer", "vol_06"]), (upcoming[2], ["vol_03", "vol_05"])]:
        for suffix in people:
            SignUp.objects.create(shift=shift, volunteer=volunteers[suffix], status=SignUp.Status.CONFIRMED)

    past = [make("library-guide", -14, 9, 3, 4), make("museum-docent", -7, 14, 4, 6, ["guide"])]
    for shift, people in [(past[0], ["volunteer", "vol_02", "vol_06"]), (past[1], ["vol_03", "vol_05", "vol_01"])]:
        for n, suffix in enumerate(people):
            volunteer = volunteers[suffix]
            checked_in = shift.starts_at - datetime.timedelta(minutes=5)
            checked_out = shift.ends_at - datetime.timedelta(minutes=10 * n)
            SignUp.objects.create(
                shift=shift,
                volunteer=volunteer,
                status=SignUp.Status.CONFIRMED,
                checked_in_at=checked_in,
                checked_out_at=checked_out,
                checkin_method="code",
            )
            minutes = int((min(checked_out, shift.ends_at) - max(checked_in, shift.starts_at)).total_seconds() // 60)
            record = HourRecord.objects.create(
                volunteer=volunteer,
                shift=shift,
                kind=HourRecord.Kind.CHECKED,
                minutes=minutes,
                served_on=timezone.localdate(shift.starts_at),
            )
            # The older shift's hours are approved; the last week's wait on the dashboard.
            if shift is past[0]:
                from . import services

                services.approve_hours([record.pk], by=coordinator)
