"""Demo ratings and demand requests of one tenant (called by tenants/demo.py after the content,
bookings, volunteers and training of every demo site exist), enough for the dashboard's charts.

Ratings are honest: each rater really checked in at a past session of the activity (history
made directly, as bookings/demo.py does, because the booking services refuse sessions that are
over), completed the course, or had volunteer hours approved. Some are answered and published.
Demand requests come in every category and status over the last four months.

Idempotent: nothing is created when the site already has demo audience sessions / requests.
"""

from __future__ import annotations

import datetime
import zlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import DemandRequest, Rating

AUDIENCE = [
    "陈静",
    "刘洋",
    "杨帆",
    "黄磊",
    "赵敏",
    "周杰",
    "吴婷",
    "徐明",
    "孙悦",
    "马超",
    "朱琳",
    "胡斌",
    "郭佳",
    "何平",
]
PAST_SESSION = "往期场次（已结束）"
COMMENTS = {
    5: ["组织有序，内容精彩，下次还来！", "老师讲得特别好，孩子很喜欢。", "场地干净，工作人员很热情。", ""],
    4: ["整体不错，希望多安排周末场次。", "内容丰富，就是签到排队稍久。", ""],
    3: ["一般，音响效果有待改进。", "时间有点短，意犹未尽。"],
    2: ["现场指引不清楚，找了很久入口。"],
    1: ["临时改了时间，没有提前通知。"],
}
ANSWERS = {
    5: "感谢您的肯定，欢迎继续关注我们的活动！",
    4: "感谢建议，下一季我们会增加周末场次。",
    3: "感谢反馈，我们已安排检修音响设备。",
    2: "抱歉给您带来不便，已在入口增设指示牌。",
    1: "非常抱歉，今后调整时间将提前通过短信和站内消息通知。",
}
DEMANDS = [
    ("performance", "希望周末在社区广场多安排一些地方戏曲演出，老人们很喜欢。"),
    ("exhibition", "能否举办本地老照片展，记录城市变迁？"),
    ("lecture", "希望开设家庭教育和亲子阅读方面的公益讲座。"),
    ("training", "想学习短视频拍摄剪辑，记录社区文化活动。"),
    ("reading", "建议图书馆分馆延长晚间开放时间，方便上班族借书。"),
    ("heritage", "希望有非遗剪纸、扎染的体验课，带孩子一起参加。"),
    ("fitness", "广场舞场地不够，希望协调更多晚间活动场地。"),
    ("film", "希望每月在村文化礼堂放映一次公益电影。"),
    ("digital", "数字资源库希望增加有声书和方言版内容。"),
    ("other", "文化馆的停车位太少，建议和周边单位共享车位。"),
    ("performance", "希望引进儿童剧，寒暑假期间演出。"),
    ("training", "希望开设老年人智能手机使用培训班。"),
    ("lecture", "想听本地历史文化方面的系列讲座。"),
    ("reading", "建议在地铁站设立自助借还书柜。"),
    ("heritage", "希望非遗传承人进校园，让孩子了解传统技艺。"),
    ("exhibition", "建议美术馆多办青年艺术家作品展。"),
    ("fitness", "希望体育公园增加适合老年人的健身器材和太极拳教学。"),
    ("performance", "希望举办社区合唱团展演，给群众文艺团队搭台子。"),
]
TRIAGE = [
    ("planned", "已纳入下季度活动计划"),
    ("done", "已于上月开展，欢迎关注活动预告"),
    ("declined", "场地条件暂不具备，已转交相关部门研究"),
    ("new", ""),
]


def _audience(slug: str) -> list:
    """Demo raters of this site ({slug}_audience01 …): no password, they never sign in."""
    User = get_user_model()
    people = []
    for number, name in enumerate(AUDIENCE, start=1):
        username = f"{slug}_audience{number:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, first_name=name)
            user.set_unusable_password()
            user.save()
        people.append(user)
    return people


def _score(seed: str) -> int:
    # Mostly satisfied, as real ratings are: 5,5,4,5,4,3,5,4,2,5,4,1 …
    return [5, 5, 4, 5, 4, 3, 5, 4, 2, 5, 4, 1, 5, 4][zlib.crc32(seed.encode()) % 14]


def _rating(user, *, kind: str, target, when: datetime.datetime, seed: str, publish: bool, staff) -> Rating | None:
    from . import services

    field = services.TARGET_FIELD[kind]
    if Rating.objects.filter(user=user, **{field: target}).exists():
        return None
    score = _score(seed)
    comments = COMMENTS[score]
    rating = services.rate(user, kind, target.pk, score, comments[zlib.crc32(seed.encode()) % len(comments)])
    Rating.objects.filter(pk=rating.pk).update(created_at=when)
    if publish or score <= 3:  # low scores are always answered; good ones sometimes published
        services.answer_rating(rating, staff, ANSWERS[score], publish=publish)
        Rating.objects.filter(pk=rating.pk).update(answered_at=when + datetime.timedelta(days=1))
    return rating


def seed_feedback_demo(slug: str) -> None:
    """Ratings (activities, volunteer opportunities, courses) and demand requests of this site."""
    User = get_user_model()
    staff = User.objects.filter(username=f"{slug}_admin").first()
    with transaction.atomic():
        people = _audience(slug)
        _activity_ratings(slug, people, staff)
        _volunteer_ratings(slug, staff)
        _course_ratings(slug, staff)
        _demands(slug, people, staff)


def _activity_ratings(slug: str, people: list, staff) -> None:
    from bookings import services as bookings_services
    from bookings.models import Booking, Session
    from cms_pages.models import ActivityPage

    if Session.objects.filter(name=PAST_SESSION).exists():
        return
    now = timezone.now()
    activities = list(
        ActivityPage.objects.live().filter(booking_enabled=True, locale__language_code="zh-hans").order_by("pk")[:3]
    )
    number = 0
    for index, activity in enumerate(activities):
        # Three past sessions per activity, a month apart: satisfaction over time.
        for month in range(3):
            starts = now - datetime.timedelta(days=12 + 30 * month + 9 * index)
            session = Session.objects.create(
                activity=activity,
                name=PAST_SESSION,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(hours=2),
                capacity=60,
                opens_at=starts - datetime.timedelta(days=10),
            )
            attendees = people[(month + index) % 4 :: 2]
            for person in attendees:
                number += 1
                Booking.objects.create(
                    session=session,
                    user=person,
                    order_number=f"{timezone.localtime(starts):%Y%m%d}9{number:07d}",
                    pickup_code=bookings_services._new_pickup_code(),
                    quantity=1,
                    status=Booking.Status.CHECKED_IN,
                    checked_in_at=starts - datetime.timedelta(minutes=10),
                )
    # Each person rates an activity once (the most recent visit), a day or two after it.
    for activity in activities:
        visits = (
            Booking.objects.filter(
                session__activity=activity, status=Booking.Status.CHECKED_IN, session__name=PAST_SESSION
            )
            .select_related("session", "user")
            .order_by("-session__starts_at")
        )
        seen = set()
        for count, booking in enumerate(visits):
            if booking.user_id in seen:
                continue
            seen.add(booking.user_id)
            _rating(
                booking.user,
                kind=Rating.Kind.ACTIVITY,
                target=activity,
                when=booking.session.ends_at + datetime.timedelta(days=1 + count % 2),
                seed=f"{slug}-{activity.pk}-{booking.user_id}",
                publish=count % 3 == 0,
                staff=staff,
            )


def _volunteer_ratings(slug: str, staff) -> None:
    from volunteers.models import HourRecord

    records = (
        HourRecord.objects.filter(status=HourRecord.Status.APPROVED, shift__isnull=False)
        .select_related("volunteer__user", "shift__opportunity")
        .order_by("pk")
    )
    for count, record in enumerate(records):
        if record.volunteer.user.username.endswith("_volunteer"):
            continue  # the demo volunteer's own login still has a rating to give (the prompt shows)
        _rating(
            record.volunteer.user,
            kind=Rating.Kind.VOLUNTEERING,
            target=record.shift.opportunity,
            when=record.shift.ends_at + datetime.timedelta(days=2),
            seed=f"{slug}-vol-{record.pk}",
            publish=count == 0,
            staff=staff,
        )


def _course_ratings(slug: str, staff) -> None:
    from training.models import Enrollment

    for count, enrollment in enumerate(
        Enrollment.objects.filter(completed_at__isnull=False).select_related("user", "course").order_by("pk")
    ):
        _rating(
            enrollment.user,
            kind=Rating.Kind.COURSE,
            target=enrollment.course,
            when=enrollment.completed_at + datetime.timedelta(hours=1),
            seed=f"{slug}-course-{enrollment.pk}",
            publish=count == 0,
            staff=staff,
        )


def _demands(slug: str, people: list, staff) -> None:
    from . import services

    if DemandRequest.objects.exists():
        return
    regions = [code for code, _ in services.region_choices()]
    now = timezone.now()
    for number, (category, text) in enumerate(DEMANDS):
        person = people[number % len(people)]
        region = regions[number % len(regions)] if regions and number % 4 else ""
        demand = services.submit_demand(person, category, region, text)
        submitted = now - datetime.timedelta(days=3 + 7 * number, hours=number)
        DemandRequest.objects.filter(pk=demand.pk).update(created_at=submitted)
        status, reason = TRIAGE[number % len(TRIAGE)]
        if number < 3:
            status, reason = "new", ""  # the newest wait for triage
        if status != "new":
            services.triage(demand, staff, status, reason)
            DemandRequest.objects.filter(pk=demand.pk).update(decided_at=submitted + datetime.timedelta(days=4))
