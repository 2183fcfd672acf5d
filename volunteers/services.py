"""Every write of the volunteer capability, and the reads that need care (budgets, masking).

Locks (ARCHITECTURE §6, the pretix pattern): a sign-up takes row locks on the volunteer, then on
the shift (always in that order, so two sign-ups never deadlock), counts the places held and
inserts inside the same transaction. Without them two parallel requests both see one place left
and both take it; tests/volunteers/test_concurrency.py shows that race with the guard switched
off (settings.VOLUNTEERS_SIGNUP_LOCKING, for that test only) and its absence with it on.

Errors are ValidationErrors with Chinese messages; a refused operation changes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum, Window
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.personal_data import mask_name, normalize_mobile, validate_real_name

from .models import (
    AVAILABILITY_LABELS,
    SKILL_LABELS,
    HourRecord,
    OpportunityPage,
    Shift,
    SignUp,
    Team,
    TeamMembership,
    Volunteer,
    VolunteerSettings,
)

COORDINATOR_ROLES = ("志愿者管理员", "站点管理员")
CODE_STEP_SECONDS = 60
# The code shown now and the one shown just before: a volunteer typing as it turns over still gets in.
CODE_STEPS_ACCEPTED = 2
STARS = 5


def _now() -> datetime.datetime:
    return timezone.now()


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%H:%M")


def _local_datetime(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def volunteer_settings() -> VolunteerSettings:
    return VolunteerSettings.load()


# --- star levels ---------------------------------------------------------------------------


def star_level(approved_minutes: int, thresholds_minutes: list[int]) -> int:
    """Stars earned: the number of thresholds reached (100 h → one star; 99.9 h → none)."""
    return sum(1 for threshold in thresholds_minutes if approved_minutes >= threshold)


@dataclass(frozen=True)
class StarProgress:
    stars: int
    next_star: int | None
    minutes_to_next: int


def star_progress(approved_minutes: int, thresholds_minutes: list[int]) -> StarProgress:
    stars = star_level(approved_minutes, thresholds_minutes)
    if stars >= len(thresholds_minutes):
        return StarProgress(stars, None, 0)
    return StarProgress(stars, stars + 1, thresholds_minutes[stars] - approved_minutes)


def star_level_distribution() -> dict[int, int]:
    """How many approved volunteers hold 0..5 stars, in one query (thresholds of this tenant)."""
    from django.db.models import Case, IntegerField, Value, When

    thresholds = volunteer_settings().star_thresholds_minutes()
    whens = [When(approved_minutes__gte=t, then=Value(level)) for level, t in reversed(list(enumerate(thresholds, 1)))]
    rows = (
        Volunteer.objects.filter(status=Volunteer.Status.APPROVED)
        .annotate(level=Case(*whens, default=Value(0), output_field=IntegerField()))
        .values("level")
        .annotate(n=Count("pk"))
    )
    distribution = dict.fromkeys(range(STARS + 1), 0)
    for row in rows:
        distribution[row["level"]] = row["n"]
    return distribution


def recompute_approved_minutes() -> int:
    """Repair: set every volunteer's total from the approved records in one statement. Returns rows changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE volunteers_volunteer AS v SET approved_minutes = COALESCE(t.total, 0)
            FROM volunteers_volunteer AS v2
            LEFT JOIN (
                SELECT volunteer_id, SUM(minutes) AS total FROM volunteers_hourrecord
                WHERE status = 'approved' GROUP BY volunteer_id
            ) AS t ON t.volunteer_id = v2.id
            WHERE v.id = v2.id AND v.approved_minutes IS DISTINCT FROM COALESCE(t.total, 0)
            """
        )
        return cursor.rowcount


# --- roles ---------------------------------------------------------------------------------


def is_coordinator(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    # Asked several times per request (decorator, page, template): remembered on the user object,
    # per schema, since one User object may be checked in two tenants in one process.
    remembered = user.__dict__.setdefault("_volunteer_coordinator", {})
    if connection.schema_name not in remembered:
        from roles.services import role_names_of

        remembered[connection.schema_name] = any(role in COORDINATOR_ROLES for role in role_names_of(user))
    return remembered[connection.schema_name]


def led_team_ids(user) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        TeamMembership.objects.filter(
            is_leader=True, volunteer__user=user, volunteer__status=Volunteer.Status.APPROVED
        ).values_list("team_id", flat=True)
    )


def can_manage_team(user, team: Team | None) -> bool:
    return is_coordinator(user) or (team is not None and team.pk in led_team_ids(user))


def can_manage_shift(user, shift: Shift) -> bool:
    return is_coordinator(user) or (
        shift.opportunity.team_id is not None and shift.opportunity.team_id in led_team_ids(user)
    )


def require_coordinator(user) -> None:
    if not is_coordinator(user):
        raise PermissionDenied("只有志愿者管理员可以进行此操作。")


def require_shift_manager(user, shift: Shift) -> None:
    if not can_manage_shift(user, shift):
        raise PermissionDenied("只有志愿者管理员或该服务队队长可以进行此操作。")


def can_see_personal_data(user) -> bool:
    return bool(user.is_superuser or user.has_perm("roles.view_personal_data"))


# --- applications --------------------------------------------------------------------------


def _clean_choices(values: Iterable[str], allowed: dict[str, str], field: str, label: str) -> list[str]:
    values = list(dict.fromkeys(values or []))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationError({field: f"{label}：包含无效的选项。"})
    return values


def _field_error(field: str, label: str, exc: ValidationError) -> ValidationError:
    return ValidationError({field: [f"{label}：{message}" for message in exc.messages]})


def _clean_text(value: str, limit: int) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()[:limit]


def volunteer_of(user) -> Volunteer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.filter(user=user).first()


@transaction.atomic
def apply(
    user,
    *,
    real_name: str,
    mobile: str,
    emergency_contact_name: str,
    emergency_contact_phone: str,
    consent: bool,
    skills: Iterable[str] = (),
    service_areas: str = "",
    availability: Iterable[str] = (),
    introduction: str = "",
) -> Volunteer:
    """A signed-in person applies to volunteer for the current tenant (again, after a rejection)."""
    errors: dict[str, list[str]] = {}

    def check(field: str, label: str, func, value):
        try:
            return func(value)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(_field_error(field, label, exc).message_dict[field])
            return ""

    real_name = check("real_name", "姓名", validate_real_name, real_name)
    mobile = check("mobile", "手机号", normalize_mobile, mobile)
    emergency_contact_name = check("emergency_contact_name", "紧急联系人", validate_real_name, emergency_contact_name)
    emergency_contact_phone = check(
        "emergency_contact_phone", "紧急联系人电话", normalize_mobile, emergency_contact_phone
    )
    try:
        skills = _clean_choices(skills, SKILL_LABELS, "skills", "技能")
        availability = _clean_choices(availability, AVAILABILITY_LABELS, "availability", "可服务时间")
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if not consent:
        errors.setdefault("consent", []).append("同意记录：请阅读并同意记录您的志愿服务信息。")
    if errors:
        raise ValidationError(errors)

    existing = Volunteer.objects.select_for_update().filter(user=user).first()
    if existing is not None and existing.status != Volunteer.Status.REJECTED:
        raise ValidationError(
            {"__all__": f"您已提交过志愿者申请（当前状态：{existing.get_status_display()}），无需重复申请。"}
        )
    volunteer = existing or Volunteer(user=user)
    volunteer.status = Volunteer.Status.PENDING
    volunteer.real_name = real_name
    volunteer.mobile = mobile
    volunteer.emergency_contact_name = emergency_contact_name
    volunteer.emergency_contact_phone = emergency_contact_phone
    volunteer.skills = skills
    volunteer.availability = availability
    volunteer.service_areas = _clean_text(service_areas, 200)
    volunteer.introduction = _clean_text(introduction, 1000)
    volunteer.consented_at = _now()
    volunteer.applied_at = _now()
    volunteer.decided_at = None
    volunteer.decided_by = None
    volunteer.decision_reason = ""
    volunteer.save()
    return volunteer


def _advisory_lock(name: str) -> None:
    """A transaction-scoped PostgreSQL lock named per tenant (advisory locks are database-wide)."""
    key = int.from_bytes(hashlib.sha256(f"{connection.schema_name}:{name}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _number_prefix() -> str:
    from django_tenants.utils import get_tenant_model

    region = (
        get_tenant_model()
        .objects.filter(schema_name=connection.schema_name)
        .values_list("region_code", flat=True)
        .first()
    )
    return f"{region or '000000'}-"


def _next_number() -> str:
    """The next volunteer number of this tenant: <region code>-<sequence>, e.g. 330000-000042."""
    _advisory_lock("volunteer-number")
    prefix = _number_prefix()
    last = (
        Volunteer.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


@transaction.atomic
def decide_application(volunteer: Volunteer, *, approve: bool, decided_by, reason: str = "") -> Volunteer:
    require_coordinator(decided_by)
    reason = _clean_text(reason, 1000)
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.status != Volunteer.Status.PENDING:
        raise ValidationError({"__all__": f"这份申请已经处理过了（{volunteer.get_status_display()}）。"})
    if not approve and not reason:
        raise ValidationError({"reason": "审核意见：不通过时请填写原因。"})
    volunteer.status = Volunteer.Status.APPROVED if approve else Volunteer.Status.REJECTED
    volunteer.decided_at = _now()
    volunteer.decided_by = decided_by
    volunteer.decision_reason = reason
    if approve and not volunteer.number:
        volunteer.number = _next_number()
    volunteer.save()
    if approve:
        from roles.services import join_as_member

        join_as_member(volunteer.user)
        _notify(
            volunteer.user,
            "application_decided",
            gettext_lazy("志愿者申请已通过"),
            gettext_lazy("欢迎加入！您的志愿者编号是 {number}。"),
            "/me/volunteer/",
            params={"number": volunteer.number},
        )
    else:
        _notify(
            volunteer.user,
            "application_decided",
            gettext_lazy("志愿者申请未通过"),
            gettext_lazy("原因：{reason}"),
            "/me/volunteer/",
            params={"reason": reason},
        )
    return volunteer


# --- teams ---------------------------------------------------------------------------------


def create_team(*, name: str, description: str = "", created_by) -> Team:
    require_coordinator(created_by)
    name = _clean_text(name, 100)
    if not name:
        raise ValidationError({"name": "服务队名称：请填写。"})
    if Team.objects.filter(name=name).exists():
        raise ValidationError({"name": "服务队名称：已有同名服务队。"})
    return Team.objects.create(name=name, description=_clean_text(description, 2000))


@transaction.atomic
def add_team_member(team: Team, volunteer: Volunteer, *, by, is_leader: bool = False) -> TeamMembership:
    """Coordinators add anyone and appoint leaders; a leader adds members to their own team."""
    if not can_manage_team(by, team):
        raise PermissionDenied("只有志愿者管理员或本队队长可以管理队员。")
    if is_leader and not is_coordinator(by):
        raise PermissionDenied("只有志愿者管理员可以任命队长。")
    if volunteer.status != Volunteer.Status.APPROVED:
        raise ValidationError({"volunteer": "志愿者：只有审核通过的志愿者可以加入服务队。"})
    membership, created = TeamMembership.objects.get_or_create(
        team=team, volunteer=volunteer, defaults={"is_leader": is_leader}
    )
    if not created and is_leader and not membership.is_leader:
        membership.is_leader = True
        membership.save(update_fields=["is_leader"])
    return membership


@transaction.atomic
def remove_team_member(team: Team, volunteer: Volunteer, *, by) -> None:
    if not can_manage_team(by, team):
        raise PermissionDenied("只有志愿者管理员或本队队长可以管理队员。")
    membership = TeamMembership.objects.filter(team=team, volunteer=volunteer).first()
    if membership is None:
        return
    if membership.is_leader and not is_coordinator(by):
        raise PermissionDenied("只有志愿者管理员可以移除队长。")
    membership.delete()


def team_members(team: Team):
    return (
        TeamMembership.objects.filter(team=team).select_related("volunteer").order_by("-is_leader", "volunteer__number")
    )


# --- shifts and sign-ups -------------------------------------------------------------------


def create_shift(
    opportunity: OpportunityPage,
    *,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    place: str,
    capacity: int,
    required_skills: Iterable[str] = (),
    title: str = "",
    created_by,
) -> Shift:
    shift = Shift(opportunity=opportunity)
    require_shift_manager(created_by, shift)
    errors = {}
    if not starts_at:
        errors["starts_at"] = "开始时间：请填写。"
    if not ends_at:
        errors["ends_at"] = "结束时间：请填写。"
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = "结束时间：必须晚于开始时间。"
    if starts_at and ends_at and ends_at - starts_at > datetime.timedelta(hours=24):
        errors["ends_at"] = "结束时间：一个时段不能超过 24 小时。"
    if not isinstance(capacity, int) or capacity < 1 or capacity > 10000:
        errors["capacity"] = "需要人数：请填写 1 到 10000 之间的整数。"
    place = _clean_text(place or opportunity.place, 200)
    if not place:
        errors["place"] = "地点：请填写。"
    try:
        required_skills = _clean_choices(required_skills, SKILL_LABELS, "required_skills", "所需技能")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    shift.title = _clean_text(title, 100)
    shift.starts_at, shift.ends_at, shift.place = starts_at, ends_at, place
    shift.capacity, shift.required_skills = capacity, required_skills
    shift.save()
    return shift


def _places_held(shift: Shift) -> int:
    return SignUp.objects.filter(shift=shift, status__in=SignUp.HOLDING).count()


def _overlapping(volunteer: Volunteer, shift: Shift):
    return (
        SignUp.objects.filter(volunteer=volunteer, status__in=SignUp.HOLDING)
        .exclude(shift=shift)
        .filter(
            shift__starts_at__lt=shift.ends_at, shift__ends_at__gt=shift.starts_at, shift__cancelled_at__isnull=True
        )
        .select_related("shift__opportunity")
    )


def _approved_volunteer(user) -> Volunteer:
    volunteer = volunteer_of(user)
    if volunteer is None or volunteer.status != Volunteer.Status.APPROVED:
        raise ValidationError({"__all__": "只有本站审核通过的志愿者可以报名。请先申请成为志愿者。"})
    return volunteer


def _locking_enabled() -> bool:
    return getattr(settings, "VOLUNTEERS_SIGNUP_LOCKING", True)


@transaction.atomic
def sign_up(user, shift: Shift) -> tuple[SignUp, bool]:
    """Sign the user up for the shift (or accept an invitation). Returns (sign-up, created).

    Signing up again for the same shift changes nothing and returns the existing sign-up, so
    a retried request is harmless.
    """
    volunteer = _approved_volunteer(user)
    locking = _locking_enabled()
    if locking:
        # Volunteer first, shift second: the same order everywhere, so no deadlock.
        Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
        shift = Shift.objects.select_for_update().select_related("opportunity").get(pk=shift.pk)
    else:
        shift = Shift.objects.select_related("opportunity").get(pk=shift.pk)
    existing = SignUp.objects.filter(shift=shift, volunteer=volunteer, status__in=SignUp.ACTIVE).first()
    if existing is not None and existing.status != SignUp.Status.INVITED:
        return existing, False
    if shift.cancelled_at is not None:
        raise ValidationError({"__all__": "该时段已取消，不能报名。"})
    if shift.starts_at <= _now():
        raise ValidationError({"__all__": "该时段已经开始或结束，不能报名。"})
    if not shift.opportunity.live:
        raise ValidationError({"__all__": "该服务项目未发布，不能报名。"})
    if _places_held(shift) >= shift.capacity:
        raise ValidationError({"__all__": "该时段已报满，请选择其他时段。"})
    if settings.VOLUNTEERS_TEST_RACE_DELAY:  # the concurrency test only (settings)
        time.sleep(settings.VOLUNTEERS_TEST_RACE_DELAY)
    clash = _overlapping(volunteer, shift).first()
    if clash is not None:
        raise ValidationError(
            {
                "__all__": f"与您已报名的时段时间冲突：{clash.shift.opportunity.title}"
                f"（{_local_datetime(clash.shift.starts_at)} 至 {_local(clash.shift.ends_at)}）。"
            }
        )
    status = SignUp.Status.PENDING if shift.opportunity.requires_approval else SignUp.Status.CONFIRMED
    if existing is not None:  # an invitation accepted
        existing.status, existing.decided_at = status, _now()
        existing.save(update_fields=["status", "decided_at"])
        return existing, True
    return SignUp.objects.create(shift=shift, volunteer=volunteer, status=status), True


def cancel_deadline(shift: Shift) -> datetime.datetime:
    return shift.starts_at - datetime.timedelta(hours=volunteer_settings().cancel_deadline_hours)


@transaction.atomic
def cancel_signup(signup: SignUp, *, by) -> SignUp:
    """The volunteer cancels before the deadline; a shift's manager may cancel any time."""
    signup = SignUp.objects.select_for_update().select_related("shift__opportunity", "volunteer").get(pk=signup.pk)
    manager = can_manage_shift(by, signup.shift)
    if signup.volunteer.user_id != by.pk and not manager:
        raise PermissionDenied("只能取消自己的报名。")
    if signup.status not in SignUp.ACTIVE:
        return signup
    if signup.checked_in_at is not None:
        raise ValidationError({"__all__": "已签到的报名不能取消。"})
    if not manager and _now() > cancel_deadline(signup.shift):
        raise ValidationError(
            {
                "__all__": f"已过取消截止时间（{_local_datetime(cancel_deadline(signup.shift))}），如需取消请联系志愿者管理员。"
            }
        )
    signup.status, signup.decided_at = SignUp.Status.CANCELLED, _now()
    signup.save(update_fields=["status", "decided_at"])
    return signup


@transaction.atomic
def decide_signup(signup: SignUp, *, approve: bool, by) -> SignUp:
    signup = SignUp.objects.select_for_update().select_related("shift__opportunity", "volunteer").get(pk=signup.pk)
    require_shift_manager(by, signup.shift)
    if signup.status != SignUp.Status.PENDING:
        raise ValidationError({"__all__": "这条报名已经处理过了。"})
    signup.status = SignUp.Status.CONFIRMED if approve else SignUp.Status.REJECTED
    signup.decided_at = _now()
    signup.save(update_fields=["status", "decided_at"])
    title = gettext_lazy("报名已确认") if approve else gettext_lazy("报名未通过")
    _notify(
        signup.volunteer.user,
        "signup_decided",
        title,
        "{opportunity} {when}",
        "/me/volunteer/",
        params={"opportunity": signup.shift.opportunity.title, "when": _local_datetime(signup.shift.starts_at)},
    )
    return signup


def _slot_of(shift: Shift) -> str:
    start = timezone.localtime(shift.starts_at)
    day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][start.weekday()]
    part = "am" if start.hour < 12 else ("pm" if start.hour < 18 else "eve")
    return f"{day}_{part}"


def matching_volunteers(shift: Shift, *, limit: int = 50):
    """Approved volunteers with every skill the shift needs and free at its weekday and time of day,
    not already on it and with nothing overlapping it."""
    busy = SignUp.objects.filter(status__in=SignUp.ACTIVE).filter(
        Q(shift=shift) | Q(shift__starts_at__lt=shift.ends_at, shift__ends_at__gt=shift.starts_at)
    )
    found = Volunteer.objects.filter(status=Volunteer.Status.APPROVED, availability__contains=[_slot_of(shift)])
    if shift.required_skills:
        found = found.filter(skills__contains=shift.required_skills)
    return found.exclude(pk__in=busy.values("volunteer_id")).order_by("-approved_minutes", "pk")[:limit]


@transaction.atomic
def invite_volunteer(shift: Shift, volunteer: Volunteer, *, by) -> SignUp:
    require_shift_manager(by, shift)
    if volunteer.status != Volunteer.Status.APPROVED:
        raise ValidationError({"volunteer": "志愿者：只能邀请审核通过的志愿者。"})
    if shift.starts_at <= _now() or shift.cancelled_at is not None:
        raise ValidationError({"__all__": "该时段已开始或已取消，不能邀请。"})
    existing = SignUp.objects.filter(shift=shift, volunteer=volunteer, status__in=SignUp.ACTIVE).first()
    if existing is not None:
        return existing
    signup = SignUp.objects.create(shift=shift, volunteer=volunteer, status=SignUp.Status.INVITED)
    _notify(
        volunteer.user,
        "invited",
        gettext_lazy("志愿服务邀请"),
        gettext_lazy("邀请您参加 {opportunity}（{when}，{place}），请在个人中心确认。"),
        "/me/volunteer/",
        params={"opportunity": shift.opportunity.title, "when": _local_datetime(shift.starts_at), "place": shift.place},
    )
    return signup


# --- check-in and check-out ----------------------------------------------------------------


def _code_at(shift: Shift, step: int) -> str:
    digest = hmac.new(bytes.fromhex(shift.checkin_secret), f"code:{step}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def current_checkin_code(shift: Shift, *, at: float | None = None) -> tuple[str, int]:
    """The 6-digit code of this minute and the seconds until it changes (TOTP-like, per shift)."""
    moment = time.time() if at is None else at
    step = int(moment // CODE_STEP_SECONDS)
    return _code_at(shift, step), CODE_STEP_SECONDS - int(moment % CODE_STEP_SECONDS)


def _code_is_valid(shift: Shift, code: str, at: float | None = None) -> bool:
    code = unicodedata.normalize("NFKC", code or "").strip()
    if len(code) != 6 or not code.isdigit():
        return False
    step = int((time.time() if at is None else at) // CODE_STEP_SECONDS)
    return any(hmac.compare_digest(_code_at(shift, step - back), code) for back in range(CODE_STEPS_ACCEPTED))


@dataclass(frozen=True)
class CheckResult:
    signup: SignUp
    first_time: bool
    message: str


def _signup_for_check(user, shift_id: int, code: str) -> tuple[SignUp, VolunteerSettings]:
    shift = Shift.objects.select_related("opportunity").filter(pk=shift_id).first()
    if shift is None:
        raise ValidationError({"__all__": "找不到这个服务时段（请确认在正确的站点签到）。"})
    if not _code_is_valid(shift, code):
        raise ValidationError({"code": "签到码：不正确或已过期，请输入管理员手机上当前显示的 6 位数字。"})
    volunteer = volunteer_of(user)
    signup = None
    if volunteer is not None:
        signup = (
            SignUp.objects.select_for_update()
            .select_related("shift__opportunity")
            .filter(shift=shift, volunteer=volunteer, status=SignUp.Status.CONFIRMED)
            .first()
        )
    if signup is None:
        raise ValidationError({"__all__": "您没有该时段的有效报名，不能签到。"})
    return signup, volunteer_settings()


@transaction.atomic
def check_in(user, shift_id: int, *, code: str, method: str = "code") -> CheckResult:
    signup, rules = _signup_for_check(user, shift_id, code)
    if signup.checked_in_at is not None:
        return CheckResult(signup, False, f"您已于 {_local(signup.checked_in_at)} 签到，无需重复签到。")
    shift, now = signup.shift, _now()
    opens = shift.starts_at - datetime.timedelta(minutes=rules.checkin_opens_minutes)
    if now < opens:
        raise ValidationError({"__all__": f"还未到签到时间：签到从 {_local_datetime(opens)} 开始。"})
    if now > shift.ends_at:
        raise ValidationError(
            {"__all__": f"该时段已于 {_local_datetime(shift.ends_at)} 结束，不能再签到。如有服务请联系管理员补录。"}
        )
    signup.checked_in_at, signup.checkin_method = now, method[:10]
    signup.save(update_fields=["checked_in_at", "checkin_method"])
    return CheckResult(signup, True, f"签到成功：{_local(now)}。服务结束时请签退。")


def checked_minutes(shift: Shift, checked_in_at: datetime.datetime, checked_out_at: datetime.datetime) -> int:
    """Service time counted: the part of [check-in, check-out] inside the shift, in whole minutes."""
    start = max(checked_in_at, shift.starts_at)
    end = min(checked_out_at, shift.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


@transaction.atomic
def check_out(user, shift_id: int, *, code: str) -> CheckResult:
    signup, rules = _signup_for_check(user, shift_id, code)
    if signup.checked_in_at is None:
        raise ValidationError({"__all__": "您还没有签到，不能签退。"})
    if signup.checked_out_at is not None:
        return CheckResult(signup, False, f"您已于 {_local(signup.checked_out_at)} 签退，无需重复签退。")
    shift, now = signup.shift, _now()
    closes = shift.ends_at + datetime.timedelta(minutes=rules.checkout_closes_minutes)
    if now > closes:
        raise ValidationError({"__all__": f"签退已于 {_local_datetime(closes)} 截止，请联系管理员补录时长。"})
    signup.checked_out_at = now
    signup.save(update_fields=["checked_out_at"])
    minutes = checked_minutes(shift, signup.checked_in_at, now)
    HourRecord.objects.create(
        volunteer_id=signup.volunteer_id,
        shift=shift,
        kind=HourRecord.Kind.CHECKED,
        minutes=minutes,
        served_on=timezone.localdate(shift.starts_at),
    )
    return CheckResult(
        signup, True, f"签退成功：本次服务 {minutes // 60} 小时 {minutes % 60} 分钟，待管理员审核后计入时长。"
    )


# --- hours ---------------------------------------------------------------------------------


@transaction.atomic
def add_makeup_hours(volunteer: Volunteer, shift: Shift, *, minutes: int, reason: str, by) -> HourRecord:
    """补录: hours a volunteer served but could not check (forgot, phone dead), with a reason.

    Capped per volunteer and shift: checked plus make-up time never exceeds the shift's length.
    Kept as its own record (kind=makeup), so reports can tell it from checked time.
    """
    require_shift_manager(by, shift)
    reason = _clean_text(reason, 1000)
    if not isinstance(minutes, int) or minutes <= 0:
        raise ValidationError({"minutes": "补录时长：请填写大于 0 的分钟数。"})
    if not reason:
        raise ValidationError({"reason": "补录原因：请填写。"})
    Volunteer.objects.select_for_update().filter(
        pk=volunteer.pk
    ).first()  # one make-up entry at a time per person (the cap)
    if volunteer.status != Volunteer.Status.APPROVED:
        raise ValidationError({"volunteer": "志愿者：只能为审核通过的志愿者补录。"})
    if shift.starts_at > _now():
        raise ValidationError({"__all__": "该时段还没有开始，不能补录。"})
    recorded = (
        HourRecord.objects.filter(volunteer=volunteer, shift=shift)
        .exclude(status=HourRecord.Status.REJECTED)
        .aggregate(total=Sum("minutes"))["total"]
        or 0
    )
    room = shift.length_minutes - recorded
    if minutes > room:
        raise ValidationError(
            {
                "minutes": f"补录时长：超过上限。该时段共 {shift.length_minutes} 分钟，已记录 {recorded} 分钟，最多还能补录 {max(room, 0)} 分钟。"
            }
        )
    return HourRecord.objects.create(
        volunteer=volunteer,
        shift=shift,
        kind=HourRecord.Kind.MAKEUP,
        minutes=minutes,
        served_on=timezone.localdate(shift.starts_at),
        reason=reason,
        created_by=by,
    )


def _manageable_records(by, record_ids: Iterable[int]):
    records = HourRecord.objects.select_for_update().filter(pk__in=list(record_ids), status=HourRecord.Status.PENDING)
    if is_coordinator(by):
        return records
    teams = led_team_ids(by)
    if not teams:
        raise PermissionDenied("只有志愿者管理员或服务队队长可以审核时长。")
    return records.filter(shift__opportunity__team_id__in=teams)


@transaction.atomic
def approve_hours(record_ids: Iterable[int], *, by) -> int:
    """Approve pending records; each volunteer's total moves in the same transaction. Returns how many."""
    records = list(_manageable_records(by, record_ids).order_by("volunteer_id", "pk"))
    if not records:
        return 0
    now = _now()
    HourRecord.objects.filter(pk__in=[r.pk for r in records]).update(
        status=HourRecord.Status.APPROVED, decided_at=now, decided_by=by
    )
    per_volunteer: dict[int, int] = {}
    for record in records:
        per_volunteer[record.volunteer_id] = per_volunteer.get(record.volunteer_id, 0) + record.minutes
    for volunteer_id, minutes in sorted(per_volunteer.items()):
        Volunteer.objects.filter(pk=volunteer_id).update(approved_minutes=F("approved_minutes") + minutes)
    users = dict(Volunteer.objects.filter(pk__in=per_volunteer).values_list("pk", "user_id"))
    for volunteer_id, minutes in per_volunteer.items():
        _notify_user_id(
            users[volunteer_id],
            "hours_approved",
            gettext_lazy("服务时长已审核"),
            gettext_lazy("新增 {hours} 小时已计入您的志愿服务时长。"),
            "/me/volunteer/",
            params={"hours": round(minutes / 60, 1)},
        )
    return len(records)


@transaction.atomic
def reject_hours(record_ids: Iterable[int], *, by, reason: str) -> int:
    reason = _clean_text(reason, 1000)
    if not reason:
        raise ValidationError({"reason": "不通过原因：请填写。"})
    records = _manageable_records(by, record_ids)
    return records.update(status=HourRecord.Status.REJECTED, decided_at=_now(), decided_by=by, reason=reason)


# --- certificates ---------------------------------------------------------------------------


def issue_service_certificate(volunteer: Volunteer, *, by):
    """志愿服务记录证明 of the approved hours so far (the volunteer or a coordinator asks for it)."""
    from certificates import services as certificates
    from certificates.models import KIND_VOLUNTEER_SERVICE

    if by.pk != volunteer.user_id:
        require_coordinator(by)
    if volunteer.status != Volunteer.Status.APPROVED:
        raise ValidationError({"__all__": "只有审核通过的志愿者可以开具服务记录证明。"})
    approved = HourRecord.objects.filter(volunteer=volunteer, status=HourRecord.Status.APPROVED)
    period = approved.aggregate(first=Min("served_on"), last=Max("served_on"))
    if not volunteer.approved_minutes or period["first"] is None:
        raise ValidationError({"__all__": "您还没有已审核的服务时长，暂不能开具证明。"})
    thresholds = volunteer_settings().star_thresholds_minutes()
    stars = star_level(volunteer.approved_minutes, thresholds)
    lines = [
        ("志愿者编号", volunteer.number),
        ("累计服务时长", f"{volunteer.approved_hours:g} 小时"),
        ("服务期间", f"{period['first']:%Y-%m-%d} 至 {period['last']:%Y-%m-%d}"),
        ("服务次数", f"{approved.values('shift_id').distinct().count()} 次"),
        ("志愿者星级", f"{stars} 星" if stars else "未评星"),
    ]
    return certificates.issue_certificate(
        kind=KIND_VOLUNTEER_SERVICE,
        holder=volunteer.user,
        holder_name=volunteer.real_name,
        title="志愿服务记录证明",
        lines=lines,
        issued_by=by,
        reference=f"volunteers.Volunteer:{volunteer.pk}",
    )


# --- reads for pages -----------------------------------------------------------------------


def opportunity_context(opportunity: OpportunityPage, user) -> dict:
    """Upcoming shifts with places left, and the visitor's own sign-ups (a fixed number of queries)."""
    now = _now()
    shifts = list(
        opportunity.shifts.filter(ends_at__gt=now, cancelled_at__isnull=True).annotate(
            held=Count("signups", filter=Q(signups__status__in=SignUp.HOLDING))
        )[:100]
    )
    volunteer = volunteer_of(user)
    mine = {}
    if volunteer is not None and shifts:
        mine = {
            s.shift_id: s
            for s in SignUp.objects.filter(volunteer=volunteer, shift__in=shifts, status__in=SignUp.ACTIVE)
        }
    for shift in shifts:
        shift.places_left = max(shift.capacity - shift.held, 0)
        shift.my_signup = mine.get(shift.pk)
        shift.has_started = shift.starts_at <= now
    return {"shifts": shifts, "volunteer": volunteer}


def volunteer_page_context(volunteer: Volunteer) -> dict:
    """The volunteer's page in the personal centre: hours, stars, history, upcoming shifts."""
    rules = volunteer_settings()
    thresholds = rules.star_thresholds_minutes()
    totals = {
        (row["kind"], row["status"]): row["total"]
        for row in HourRecord.objects.filter(volunteer=volunteer)
        .values("kind", "status")
        .annotate(total=Sum("minutes"))
        .order_by()
    }
    now = _now()
    upcoming = list(
        SignUp.objects.filter(volunteer=volunteer, status__in=SignUp.ACTIVE, shift__ends_at__gt=now)
        .select_related("shift__opportunity")
        .order_by("shift__starts_at")[:20]
    )
    for signup in upcoming:
        signup.can_cancel = (
            signup.status != SignUp.Status.INVITED
            and signup.checked_in_at is None
            and now <= (signup.shift.starts_at - datetime.timedelta(hours=rules.cancel_deadline_hours))
        )
    kinds, statuses = dict(HourRecord.Kind.choices), dict(HourRecord.Status.choices)
    history = list(
        HourRecord.objects.filter(volunteer=volunteer)
        .order_by("-served_on", "-pk")
        .values("served_on", "minutes", "kind", "status", "shift__opportunity__title")[:20]
    )
    for row in history:
        row["hours"] = round(row["minutes"] / 60, 1)
        row["kind_label"], row["status_label"] = kinds[row["kind"]], statuses[row["status"]]
    from certificates import services as certificates

    return {
        "volunteer": volunteer,
        "progress": star_progress(volunteer.approved_minutes, thresholds),
        "thresholds_hours": [t / 60 for t in thresholds],
        "checked_approved_hours": round(totals.get(("checked", "approved"), 0) / 60, 1),
        "makeup_approved_hours": round(totals.get(("makeup", "approved"), 0) / 60, 1),
        "pending_hours": round((totals.get(("checked", "pending"), 0) + totals.get(("makeup", "pending"), 0)) / 60, 1),
        "upcoming": upcoming,
        "history": history,
        "certificates": list(certificates.certificates_of(volunteer.user_id, kind="volunteer_service")[:5]),
        "teams": list(volunteer.team_memberships.select_related("team")),
    }


def _masked_rows(rows: list[dict]) -> list[dict]:
    """Rows read with .values(): the name masked here, the only personal field a list shows."""
    for row in rows:
        row["masked_name"] = mask_name(row.pop("real_name", ""))
    return rows


def dashboard_context(user) -> dict:
    """What waits for the coordinator (or a team leader, for their teams).

    Lists are read as plain values (no page or volunteer objects, one decryption per row):
    building 80 Wagtail page instances and decrypting every personal field of 50 volunteers
    cost more than all the queries together (bench/volunteers.py).
    """
    now = _now()
    coordinator = is_coordinator(user)
    teams = None if coordinator else led_team_ids(user)
    shifts = Shift.objects.filter(
        starts_at__gt=now, starts_at__lt=now + datetime.timedelta(days=30), cancelled_at__isnull=True
    )
    hours = HourRecord.objects.filter(status=HourRecord.Status.PENDING)
    if teams is not None:
        shifts = shifts.filter(opportunity__team_id__in=teams)
        hours = hours.filter(shift__opportunity__team_id__in=teams)
    short = list(
        shifts.annotate(held=Count("signups", filter=Q(signups__status__in=SignUp.HOLDING)))
        .filter(held__lt=F("capacity"))
        .order_by("starts_at")
        .values("pk", "starts_at", "place", "capacity", "held", "opportunity__title")[:30]
    )
    for shift in short:
        shift["missing"] = shift["capacity"] - shift["held"]
    # The total comes with the first 50 rows (a window count is computed before LIMIT): one query.
    pending_hours = _masked_rows(
        list(
            hours.annotate(total=Window(Count("pk")))
            .order_by("created_at", "pk")
            .values(
                "pk",
                "minutes",
                "kind",
                "reason",
                "served_on",
                "total",
                "volunteer__number",
                "shift__opportunity__title",
                real_name=F("volunteer__real_name"),
            )[:50]
        )
    )
    kinds = dict(HourRecord.Kind.choices)
    for row in pending_hours:
        row["hours"] = round(row["minutes"] / 60, 1)
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
    context = {
        "coordinator": coordinator,
        "short_shifts": short,
        "pending_hours": pending_hours,
        "pending_hours_count": pending_hours[0]["total"] if pending_hours else 0,
        "pending_signups": _masked_rows(
            list(
                SignUp.objects.filter(status=SignUp.Status.PENDING, shift__in=shifts)
                .order_by("shift__starts_at")
                .values(
                    "pk",
                    "shift_id",
                    "shift__starts_at",
                    "shift__opportunity__title",
                    real_name=F("volunteer__real_name"),
                )[:50]
            )
        ),
    }
    if coordinator:
        applications = list(
            Volunteer.objects.filter(status=Volunteer.Status.PENDING)
            .annotate(total=Window(Count("pk")))
            .order_by("applied_at", "pk")
            .only("pk", "real_name", "applied_at", "skills")[:50]
        )
        context["applications"] = applications
        context["applications_count"] = applications[0].total if applications else 0
        context["star_distribution"] = star_level_distribution()
        context["teams"] = list(Team.objects.annotate(members=Count("memberships")).only("pk", "name"))
    return context


def shift_roster(shift: Shift):
    return (
        SignUp.objects.filter(shift=shift)
        .exclude(status=SignUp.Status.CANCELLED)
        .select_related("volunteer")
        .order_by("status", "created_at")
    )


# --- reminders ------------------------------------------------------------------------------


def send_shift_reminders(*, within_hours: int = 24) -> int:
    """Remind confirmed volunteers of shifts starting within the next day, once per shift."""
    now = _now()
    sent = 0
    due = Shift.objects.filter(
        reminded_at__isnull=True,
        cancelled_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + datetime.timedelta(hours=within_hours),
    ).select_related("opportunity")
    for shift in due:
        with transaction.atomic():
            claimed = Shift.objects.filter(pk=shift.pk, reminded_at__isnull=True).update(reminded_at=now)
            if not claimed:
                continue  # another worker reminded it
            for user_id in SignUp.objects.filter(shift=shift, status=SignUp.Status.CONFIRMED).values_list(
                "volunteer__user_id", flat=True
            ):
                _notify_user_id(
                    user_id,
                    "shift_reminder",
                    gettext_lazy("志愿服务提醒"),
                    gettext_lazy("{opportunity} 将于 {when} 在 {place} 开始，请准时签到。"),
                    "/me/volunteer/",
                    params={
                        "opportunity": shift.opportunity.title,
                        "when": _local_datetime(shift.starts_at),
                        "place": shift.place,
                    },
                )
                sent += 1
    return sent


# --- notifications ---------------------------------------------------------------------------


def _notify_user_id(user_id: int, kind: str, title, body, link: str, params: dict | None = None) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None:
        _notify(user, kind, title, body, link, params=params)


def _notify(user, kind: str, title, body, link: str, params: dict | None = None) -> None:
    """The platform's one channel (notifications/): a message in the personal centre of this site,
    email/SMS sent by a task after the commit (nothing is sent for a rolled-back decision). The
    texts are lazy strings written in the person's language by notify (docs/languages.md)."""
    from notifications import services as notifications

    notifications.notify(user, f"volunteers.{kind}", title, body, link, params=params)


# --- certificates -----------------------------------------------------------------------------


def service_certificates():
    """This site's 志愿服务记录证明, newest first."""
    from certificates.models import KIND_VOLUNTEER_SERVICE, Certificate

    return Certificate.objects.filter(kind=KIND_VOLUNTEER_SERVICE).select_related("holder")


def revoke_service_certificate(certificate_id: int, *, reason: str, by):
    """A coordinator revokes a 志愿服务记录证明 with a reason: the public verification page then says
    so, the PDF is no longer served, and the holder is told. Revoking twice is refused."""
    from certificates import services as certificates

    require_coordinator(by)
    certificate = service_certificates().filter(pk=certificate_id).first()
    if certificate is None:
        raise ValidationError({"__all__": "没有这个志愿服务记录证明。"})
    if not (reason or "").strip():
        raise ValidationError({"reason": "撤销原因：请填写撤销原因（将显示在公开核验页面上）。"})
    if certificate.is_revoked:
        when = _local_datetime(certificate.revoked_at)
        raise ValidationError({"__all__": f"该证书已于 {when} 撤销，无需重复撤销。"})
    certificate = certificates.revoke_certificate(certificate, reason=reason, revoked_by=by)
    _notify(
        certificate.holder,
        "certificate_revoked",
        gettext_lazy("志愿服务记录证明已撤销"),
        gettext_lazy("您的志愿服务记录证明（验证码 {code}）已被撤销。原因：{reason}"),
        "/me/certificates/",
        params={"code": certificate.display_code, "reason": certificate.revocation_reason},
    )
    return certificate
