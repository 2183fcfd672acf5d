"""Every write of feedback/ (ratings, answers, demand requests, triage) and the reads others need.

Refusals raise `FeedbackRefused(field, message)`: a Chinese message naming the field, and
nothing stored. The statistics dashboard reads `satisfaction_by_day`, `rating_summary` and
`demand_by_category` (counts and averages only, never a person).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.regions import subdivisions

from .models import ANSWER_MAX, COMMENT_MAX, DEMAND_TEXT_MAX, REASON_MAX, DemandRequest, Rating, RatingInvitation

FIELD_LABELS = {
    "score": "评分",
    "comment": "评价内容",
    "target": "评价对象",
    "answer": "回复",
    "category": "需求类别",
    "region_code": "所在区域",
    "text": "需求内容",
    "status": "状态",
    "reason": "处理说明",
}
TARGET_FIELD = {
    Rating.Kind.ACTIVITY: "activity",
    Rating.Kind.COURSE: "course",
    Rating.Kind.VOLUNTEERING: "opportunity",
}


class FeedbackRefused(Exception):
    """A refusal: `message` names the field in Chinese; `status` is the HTTP status to answer with."""

    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status
        self.message = f"{FIELD_LABELS[field]}：{message}" if field in FIELD_LABELS else message

    @property
    def bare(self) -> str:
        """The message without its field label (forms show the label themselves)."""
        return self.message.removeprefix(f"{FIELD_LABELS.get(self.field, '')}：")


# --- targets ------------------------------------------------------------------------------------


def _target_model(kind: str):
    if kind == Rating.Kind.ACTIVITY:
        from cms_pages.models import ActivityPage

        return ActivityPage
    if kind == Rating.Kind.COURSE:
        from training.models import Course

        return Course
    if kind == Rating.Kind.VOLUNTEERING:
        from volunteers.models import OpportunityPage

        return OpportunityPage
    raise FeedbackRefused("target", "没有这种评价对象")


def target_of(kind: str, target_id) -> object | None:
    """The activity, course or opportunity of this site, or None."""
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        return None
    return _target_model(kind).objects.filter(pk=target_id).first()


def target_title(target) -> str:
    return getattr(target, "title", str(target))


def target_url(kind: str, target) -> str:
    if kind == Rating.Kind.COURSE:
        return f"/training/courses/{target.pk}/"
    return target.url or ""


def has_taken_part(user, kind: str, target) -> bool:
    """Checked in at the activity, completed the course, or had hours approved on the opportunity."""
    if not getattr(user, "is_authenticated", False) or target is None:
        return False
    if kind == Rating.Kind.ACTIVITY:
        from bookings.models import Booking

        return Booking.objects.filter(user=user, session__activity=target, status=Booking.Status.CHECKED_IN).exists()
    if kind == Rating.Kind.COURSE:
        from training.models import Enrollment

        return Enrollment.objects.filter(user=user, course=target, completed_at__isnull=False).exists()
    from volunteers.models import HourRecord

    return HourRecord.objects.filter(
        volunteer__user=user, shift__opportunity=target, status=HourRecord.Status.APPROVED
    ).exists()


@dataclass(frozen=True)
class ToRate:
    kind: str
    target_id: int
    title: str
    url: str
    when: datetime.datetime | None

    @property
    def kind_label(self) -> str:
        return Rating.Kind(self.kind).label


def things_to_rate(user) -> list[ToRate]:
    """What the person took part in on this site and has not rated yet, newest first (4 queries)."""
    if not getattr(user, "is_authenticated", False):
        return []
    from bookings.models import Booking
    from training.models import Enrollment
    from volunteers.models import HourRecord

    rated = set(Rating.objects.filter(user=user).values_list("kind", "activity_id", "course_id", "opportunity_id"))
    rated = {(kind, a or c or o) for kind, a, c, o in rated}
    found: dict[tuple[str, int], ToRate] = {}
    for activity_id, title, when in (
        Booking.objects.filter(user=user, status=Booking.Status.CHECKED_IN)
        .order_by("-checked_in_at")
        .values_list("session__activity_id", "session__activity__title", "checked_in_at")
    ):
        found.setdefault(("activity", activity_id), ToRate("activity", activity_id, title, "", when))
    for course_id, title, when in (
        Enrollment.objects.filter(user=user, completed_at__isnull=False)
        .order_by("-completed_at")
        .values_list("course_id", "course__title", "completed_at")
    ):
        found.setdefault(("course", course_id), ToRate("course", course_id, title, "", when))
    for opportunity_id, title, when in (
        HourRecord.objects.filter(volunteer__user=user, status=HourRecord.Status.APPROVED, shift__isnull=False)
        .order_by("-served_on")
        .values_list("shift__opportunity_id", "shift__opportunity__title", "decided_at")
    ):
        found.setdefault(("volunteering", opportunity_id), ToRate("volunteering", opportunity_id, title, "", when))
    pending = [item for key, item in found.items() if key not in rated]
    far_past = timezone.now() - datetime.timedelta(days=365 * 100)
    return sorted(pending, key=lambda item: item.when or far_past, reverse=True)


INVITATION_WINDOW = datetime.timedelta(days=7)


def send_rating_invitations(now: datetime.datetime | None = None) -> int:
    """Ask people, by a message, to rate what they took part in during the last week: an activity
    session that has ended (not at check-in: the activity is not over yet), a completed course,
    approved volunteer hours. Each person is asked once per thing, and not when already rated.
    Run by the worker in every tenant (feedback.tasks); returns how many were asked."""
    from bookings.models import Booking
    from notifications.services import notify
    from training.models import Enrollment
    from volunteers.models import HourRecord

    now = now or timezone.now()
    since = now - INVITATION_WINDOW
    candidates: dict[tuple[int, str, int], str] = {}
    for user_id, target_id, title in Booking.objects.filter(
        status=Booking.Status.CHECKED_IN, session__ends_at__gt=since, session__ends_at__lte=now
    ).values_list("user_id", "session__activity_id", "session__activity__title"):
        candidates.setdefault((user_id, "activity", target_id), title)
    for user_id, target_id, title in Enrollment.objects.filter(
        completed_at__gt=since, completed_at__lte=now
    ).values_list("user_id", "course_id", "course__title"):
        candidates.setdefault((user_id, "course", target_id), title)
    for user_id, target_id, title in HourRecord.objects.filter(
        status=HourRecord.Status.APPROVED, shift__isnull=False, decided_at__gt=since, decided_at__lte=now
    ).values_list("volunteer__user_id", "shift__opportunity_id", "shift__opportunity__title"):
        candidates.setdefault((user_id, "volunteering", target_id), title)
    if not candidates:
        return 0
    user_ids = {user_id for user_id, _, _ in candidates}
    done = set(RatingInvitation.objects.filter(user_id__in=user_ids).values_list("user_id", "kind", "target_id"))
    for user_id, kind, a, c, o in Rating.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "kind", "activity_id", "course_id", "opportunity_id"
    ):
        done.add((user_id, kind, a or c or o))
    to_ask = {key: title for key, title in candidates.items() if key not in done}
    if not to_ask:
        return 0
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk({user_id for user_id, _, _ in to_ask})
    with transaction.atomic():
        RatingInvitation.objects.bulk_create(
            [RatingInvitation(user_id=u, kind=k, target_id=t) for u, k, t in to_ask], ignore_conflicts=True
        )
        for (user_id, kind, target_id), title in to_ask.items():
            # The kind's label (活动, 课程, 志愿服务) is in the catalogue: written in the person's language.
            label = gettext_lazy(Rating.Kind(kind).label)
            notify(
                users[user_id],
                "feedback_rate",
                gettext_lazy("请为{label}“{title}”评分"),
                gettext_lazy(
                    "感谢您参加“{title}”。请花一分钟为这次{label}打分（1–5 分）并留下意见，帮助我们改进服务。"
                ),
                f"/feedback/rate/{kind}/{target_id}/",
                sms=False,
                params={"label": label, "title": title},
            )
    return len(to_ask)


def count_to_rate(user, kind: str) -> int:
    """How many things of one kind the person may still rate here (one query: the prompts on
    我的预约, 我的学习 and 我的志愿服务)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    if kind == Rating.Kind.ACTIVITY:
        from bookings.models import Booking

        rows = (
            Booking.objects.filter(user=user, status=Booking.Status.CHECKED_IN)
            .exclude(session__activity__ratings__user=user)
            .values("session__activity_id")
        )
    elif kind == Rating.Kind.COURSE:
        from training.models import Enrollment

        rows = (
            Enrollment.objects.filter(user=user, completed_at__isnull=False)
            .exclude(course__ratings__user=user)
            .values("course_id")
        )
    else:
        from volunteers.models import HourRecord

        rows = (
            HourRecord.objects.filter(volunteer__user=user, status=HourRecord.Status.APPROVED, shift__isnull=False)
            .exclude(shift__opportunity__ratings__user=user)
            .values("shift__opportunity_id")
        )
    return rows.distinct().count()


# --- ratings ------------------------------------------------------------------------------------


def _clean_score(score) -> int:
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        raise FeedbackRefused("score", "请选择 1 到 5 分") from None
    if not 1 <= value <= 5:
        raise FeedbackRefused("score", f"只能是 1 到 5 分（收到 {value}）")
    return value


def _clean_text(field: str, value, limit: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise FeedbackRefused(field, "请填写")
    if len(text) > limit:
        raise FeedbackRefused(field, f"最多 {limit} 字，现在是 {len(text)} 字")
    return text


def rate(user, kind: str, target_id, score, comment: str = "") -> Rating:
    """Store a person's rating of something they took part in on this site; once per thing."""
    if not getattr(user, "is_authenticated", False):
        raise FeedbackRefused("target", "请先登录", 403)
    if kind not in Rating.Kind.values:
        raise FeedbackRefused("target", "没有这种评价对象")
    target = target_of(kind, target_id)
    if target is None:
        raise FeedbackRefused("target", "没有找到要评价的活动、课程或志愿服务", 404)
    value = _clean_score(score)
    text = _clean_text("comment", comment, COMMENT_MAX, required=False)
    if not has_taken_part(user, kind, target):
        raise FeedbackRefused("target", _NOT_TAKEN_PART[kind], 403)
    field = TARGET_FIELD[kind]
    if Rating.objects.filter(user=user, **{field: target}).exists():
        raise FeedbackRefused("target", f"您已经评价过“{target_title(target)}”，每人只能评价一次", 409)
    try:
        with transaction.atomic():
            return Rating.objects.create(user=user, kind=kind, score=value, comment=text, **{field: target})
    except IntegrityError:  # a second tab's submission won the race
        raise FeedbackRefused("target", f"您已经评价过“{target_title(target)}”，每人只能评价一次", 409) from None


_NOT_TAKEN_PART = {
    Rating.Kind.ACTIVITY: "只能评价您已签到参加的活动",
    Rating.Kind.COURSE: "只能评价您已完成的课程",
    Rating.Kind.VOLUNTEERING: "只能评价您服务时长已审核通过的志愿服务",
}


def answer_rating(rating: Rating, staff, answer: str, *, publish: bool) -> Rating:
    """Staff answer a rating (or change the answer) and choose whether both are shown publicly."""
    text = _clean_text("answer", answer, ANSWER_MAX, required=False)
    if publish and not text:
        raise FeedbackRefused("answer", "公开前请先填写回复")
    was_public, old_answer = rating.published, rating.answer
    rating.answer = text
    rating.published = publish
    rating.answered_at = timezone.now() if text else None
    rating.answered_by = staff if text else None
    rating.save(update_fields=["answer", "published", "answered_at", "answered_by"])
    if publish or was_public:
        from core.page_cache import content_changed

        content_changed()  # the activity page shows published ratings: drop its cached copy
    if text and text != old_answer:
        from notifications.services import notify

        title = target_title(rating.target)
        notify(
            rating.user,
            "feedback_answer",
            gettext_lazy("您对“{title}”的评价收到了回复"),
            "{answer}",
            "/me/feedback/",
            sms=False,
            params={"title": title, "answer": text[:200]},
        )
    return rating


def rating_overview(kind: str, target) -> dict:
    """Count and average score of every rating of one thing (published or not)."""
    found = Rating.objects.filter(**{TARGET_FIELD[kind]: target}).aggregate(count=Count("pk"), average=Avg("score"))
    average = round(float(found["average"]), 1) if found["average"] is not None else None
    return {"count": found["count"], "average": average}


def published_ratings(kind: str, target, limit: int = 10) -> list[Rating]:
    field = TARGET_FIELD[kind]
    return list(
        Rating.objects.filter(published=True, **{field: target}).select_related("user").order_by("-created_at")[:limit]
    )


def rating_summary(kind: str | None = None) -> list[dict]:
    """Per rated thing: kind, id, title, count, average (2 decimals), answered count (4 queries)."""
    rows = Rating.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    grouped = (
        rows.values("kind", "activity_id", "course_id", "opportunity_id")
        .annotate(count=Count("pk"), average=Avg("score"), answered=Count("pk", filter=~Q(answer="")))
        .order_by("kind", "-count")
    )
    grouped = list(grouped)
    titles: dict[tuple[str, int], str] = {}
    for each_kind in Rating.Kind.values:
        field = f"{TARGET_FIELD[each_kind]}_id"
        ids = {row[field] for row in grouped if row["kind"] == each_kind}
        if ids:
            model = _target_model(each_kind)
            for pk, title in model.objects.filter(pk__in=ids).values_list("pk", "title"):
                titles[(each_kind, pk)] = title
    summary = []
    for row in grouped:
        target_id = row["activity_id"] or row["course_id"] or row["opportunity_id"]
        summary.append(
            {
                "kind": row["kind"],
                "kind_label": Rating.Kind(row["kind"]).label,
                "target_id": target_id,
                "title": titles.get((row["kind"], target_id), "（已删除）"),
                "count": row["count"],
                "average": round(float(row["average"]), 2),
                "answered": row["answered"],
            }
        )
    return summary


def satisfaction_by_day(start: datetime.date, end: datetime.date) -> list[dict]:
    """Ratings per day (China's day) between two dates inclusive: count and average score."""
    return [
        {"day": row["day"], "count": row["count"], "average": round(float(row["average"]), 2)}
        for row in Rating.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("pk"), average=Avg("score"))
        .order_by("day")
    ]


# --- demand requests ----------------------------------------------------------------------------


def region_choices() -> list[tuple[str, str]]:
    """The districts a request may name: one level below this site's own area (GB/T 2260)."""
    code = getattr(getattr(connection, "tenant", None), "region_code", None)
    if code is None:  # schema_context() sets a stand-in tenant without the site's fields
        from tenants.models import CultureSite

        code = (
            CultureSite.objects.filter(schema_name=connection.schema_name).values_list("region_code", flat=True).first()
        )
    return subdivisions(code) if code else []


def submit_demand(user, category: str, region_code: str, text: str) -> DemandRequest:
    if not getattr(user, "is_authenticated", False):
        raise FeedbackRefused("text", "请先登录后再提交需求", 403)
    if category not in DemandRequest.Category.values:
        raise FeedbackRefused("category", "请从列表中选择一个类别")
    region_code = (region_code or "").strip()
    if region_code and region_code not in dict(region_choices()):
        raise FeedbackRefused("region_code", "请从列表中选择本地区的区县，或选“全域”")
    body = _clean_text("text", text, DEMAND_TEXT_MAX, required=True)
    return DemandRequest.objects.create(user=user, category=category, region_code=region_code, text=body)


def my_demands(user):
    return DemandRequest.objects.filter(user=user).order_by("-created_at", "-pk")


def triage(demand: DemandRequest, staff, status: str, reason: str = "") -> DemandRequest:
    """Staff set a request's status; declining needs a reason, which the person sees."""
    if status not in DemandRequest.Status.values:
        raise FeedbackRefused("status", "请选择新提交、已纳入计划、已落实或暂不采纳")
    note = _clean_text("reason", reason, REASON_MAX, required=status == DemandRequest.Status.DECLINED)
    demand.status = status
    demand.reason = note
    demand.decided_at = None if status == DemandRequest.Status.NEW else timezone.now()
    demand.decided_by = None if status == DemandRequest.Status.NEW else staff
    demand.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    if status != DemandRequest.Status.NEW:
        _tell_about_demand(demand)
    return demand


def _tell_about_demand(demand: DemandRequest) -> None:
    from notifications.services import notify

    # Written in the person's language by notify (docs/languages.md).
    title = _DEMAND_TITLES.get(demand.status) or gettext_lazy("您的需求{label}")
    body = (
        gettext_lazy("您提交的“{category}”需求：{text}\n处理说明：{reason}")
        if demand.reason
        else gettext_lazy("您提交的“{category}”需求：{text}")
    )
    params = {
        "label": gettext_lazy(demand.get_status_display()),
        "category": gettext_lazy(demand.get_category_display()),
        "text": demand.text[:60],
        "reason": demand.reason,
    }
    notify(demand.user, "feedback_demand", title, body, "/feedback/demand/mine/", sms=False, params=params)


_DEMAND_TITLES = {
    DemandRequest.Status.PLANNED: gettext_lazy("您的需求已纳入计划"),
    DemandRequest.Status.DONE: gettext_lazy("您的需求已落实"),
    DemandRequest.Status.DECLINED: gettext_lazy("您的需求暂不采纳"),
}


def demand_by_category(start: datetime.date | None = None, end: datetime.date | None = None) -> list[dict]:
    """Requests per category and status (counts only) submitted between two dates inclusive."""
    rows = DemandRequest.objects.all()
    if start:
        rows = rows.filter(created_at__date__gte=start)
    if end:
        rows = rows.filter(created_at__date__lte=end)
    return list(rows.values("category", "status").annotate(count=Count("pk")).order_by("category", "status"))
