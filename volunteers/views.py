"""Volunteer pages (apply, my volunteering, sign up, check in) and the coordinators' pages.

Thin: each view parses input, calls a service, shows the outcome. Writes run inside one
transaction (core.transactions.AtomicWritesMiddleware), so a refused operation leaves no trace.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cms_pages import privacy
from tenants.services import absolute_url

from . import exports, services
from .forms import ApplicationForm, CheckForm, MakeupHoursForm, ShiftForm, add_service_errors, aware
from .models import OpportunityPage, Shift, SignUp, Team, Volunteer


def _first_message(exc: ValidationError) -> str:
    return " ".join(m for messages_ in exc.message_dict.values() for m in messages_)


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or fallback
    return target if target.startswith("/") and not target.startswith("//") else fallback


# --- volunteers ------------------------------------------------------------------------------


@login_required
def apply(request):
    volunteer = services.volunteer_of(request.user)
    if volunteer is not None and volunteer.status != Volunteer.Status.REJECTED:
        messages.info(request, f"您已提交过志愿者申请（当前状态：{volunteer.get_status_display()}）。")
        return redirect("volunteer_home")
    initial = {}
    if request.user.real_name:
        initial = {"real_name": request.user.real_name, "mobile": request.user.mobile}
    form = ApplicationForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.apply(request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "申请已提交，志愿者管理员审核后会通知您。")
                return redirect("volunteer_home")
        status = 400
    return render(request, "volunteers/apply.html", {"form": form}, status=status)


@never_cache
@login_required
def volunteer_home(request):
    """我的志愿服务: the volunteer's page in the personal centre."""
    volunteer = services.volunteer_of(request.user)
    context = {"volunteer": volunteer, "is_manager": services.is_coordinator(request.user)}
    if volunteer is not None and volunteer.status == Volunteer.Status.APPROVED:
        context.update(services.volunteer_page_context(volunteer))
        # Only an approved volunteer leads teams, and the page already reads their memberships:
        # no second query for services.led_team_ids.
        context["is_manager"] = context["is_manager"] or any(m.is_leader for m in context["teams"])
    return render(request, "volunteers/me.html", context)


@require_POST
@login_required
def sign_up(request, shift_id: int):
    shift = get_object_or_404(Shift.objects.select_related("opportunity"), pk=shift_id)
    # A shift of an opportunity under a view restriction is for those the page admits.
    return privacy.guarded(request, shift.opportunity, lambda: _sign_up(request, shift))


def _sign_up(request, shift: Shift):
    try:
        signup, created = services.sign_up(request.user, shift)
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
        response = redirect(_back(request, shift.opportunity.url or "/me/volunteer/"))
        response.status_code = 303
        return response
    if not created:
        messages.info(request, "您已报名该时段，无需重复报名。")
    elif signup.status == SignUp.Status.PENDING:
        messages.success(request, "报名已提交，等待审核。")
    else:
        messages.success(request, "报名成功！请按时到达并签到。")
    return redirect(_back(request, "/me/volunteer/"))


@require_POST
@login_required
def cancel_signup(request, signup_id: int):
    signup = get_object_or_404(SignUp, pk=signup_id)
    try:
        services.cancel_signup(signup, by=request.user)
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
    else:
        messages.success(request, "已取消报名。")
    return redirect(_back(request, "/me/volunteer/"))


@require_POST
@login_required
def decline_invitation(request, signup_id: int):
    signup = get_object_or_404(SignUp, pk=signup_id, status=SignUp.Status.INVITED)
    services.cancel_signup(signup, by=request.user)
    messages.success(request, "已婉拒邀请。")
    return redirect("volunteer_home")


@never_cache
@login_required
def check(request):
    """签到 / 签退: by typing the code, or by scanning the QR (which fills in shift and code)."""
    if request.method == "POST":
        form = CheckForm(request.POST)
    else:  # from the QR: shift and code filled in, the volunteer confirms with one tap
        form = CheckForm(initial={"shift": request.GET.get("shift"), "code": request.GET.get("code", "")[:20]})
    result, status, not_found = None, 200, ""
    shift_id = request.GET.get("shift") or request.POST.get("shift")
    shift = (
        Shift.objects.select_related("opportunity").filter(pk=shift_id).first()
        if str(shift_id or "").isdigit()
        else None
    )
    if request.method == "POST":
        action = request.POST.get("action", "in")
        if form.is_valid():
            try:
                if action == "out":
                    result = services.check_out(
                        request.user, form.cleaned_data["shift"], code=form.cleaned_data["code"]
                    )
                else:
                    method = "qr" if request.POST.get("via") == "qr" else "code"
                    result = services.check_in(
                        request.user, form.cleaned_data["shift"], code=form.cleaned_data["code"], method=method
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
                status = 400
        else:
            status = 400
    elif shift_id and shift is None:
        not_found = "找不到这个服务时段（请确认在正确的站点签到）。"
        status = 404
    return render(
        request,
        "volunteers/check.html",
        {
            "form": form,
            "result": result,
            "shift": shift,
            "via_qr": bool(request.GET.get("code")),
            "not_found": not_found,
        },
        status=status,
    )


@require_POST
@login_required
def request_certificate(request):
    volunteer = services.volunteer_of(request.user)
    if volunteer is None:
        raise Http404
    try:
        certificate = services.issue_service_certificate(volunteer, by=request.user)
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
        return redirect("volunteer_home")
    messages.success(request, f"已开具志愿服务记录证明，验证码 {certificate.display_code}。")
    return redirect("volunteer_home")


# --- coordinators and team leaders -------------------------------------------------------------


def _manager_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not (services.is_coordinator(request.user) or services.led_team_ids(request.user)):
            raise PermissionDenied("只有志愿者管理员或服务队队长可以访问。")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@never_cache
@_manager_required
def dashboard(request):
    context = services.dashboard_context(request.user)
    context["opportunities"] = OpportunityPage.objects.live().order_by("-first_published_at")[:50]
    return render(request, "volunteers/manage/dashboard.html", context)


@require_POST
@login_required
def decide_application(request, volunteer_id: int):
    services.require_coordinator(request.user)
    volunteer = get_object_or_404(Volunteer, pk=volunteer_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.decide_application(
            volunteer, approve=approve, decided_by=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
    else:
        messages.success(request, f"已{'通过' if approve else '拒绝'} {volunteer.masked_name} 的申请。")
    return redirect("volunteers_dashboard")


@never_cache
@login_required
def application_detail(request, volunteer_id: int):
    services.require_coordinator(request.user)
    volunteer = get_object_or_404(Volunteer, pk=volunteer_id)
    full = services.can_see_personal_data(request.user)
    return render(request, "volunteers/manage/application.html", {"volunteer": volunteer, "full": full})


@_manager_required
def new_shift(request, page_id: int):
    opportunity = get_object_or_404(OpportunityPage, pk=page_id)
    if not services.can_manage_shift(request.user, Shift(opportunity=opportunity)):
        raise PermissionDenied
    form = ShiftForm(request.POST or None, initial={"place": opportunity.place})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                shift = services.create_shift(
                    opportunity,
                    starts_at=aware(data["starts_at"]),
                    ends_at=aware(data["ends_at"]),
                    place=data["place"],
                    capacity=data["capacity"],
                    required_skills=data["required_skills"],
                    title=data["title"],
                    created_by=request.user,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "时段已添加。")
                return redirect("volunteers_shift", shift_id=shift.pk)
        status = 400
    return render(
        request, "volunteers/manage/new_shift.html", {"form": form, "opportunity": opportunity}, status=status
    )


def _managed_shift(request, shift_id: int) -> Shift:
    shift = get_object_or_404(Shift.objects.select_related("opportunity"), pk=shift_id)
    services.require_shift_manager(request.user, shift)
    return shift


@never_cache
@_manager_required
def shift_detail(request, shift_id: int):
    shift = _managed_shift(request, shift_id)
    makeup_form = MakeupHoursForm(request.POST or None) if request.POST.get("form") == "makeup" else MakeupHoursForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("form")
        try:
            if action == "makeup":
                if not makeup_form.is_valid():
                    raise ValidationError({k: v for k, v in makeup_form.errors.items()})
                volunteer = get_object_or_404(Volunteer, pk=makeup_form.cleaned_data["volunteer"])
                minutes = int(makeup_form.cleaned_data["hours"] * Decimal(60))
                services.add_makeup_hours(
                    volunteer, shift, minutes=minutes, reason=makeup_form.cleaned_data["reason"], by=request.user
                )
                messages.success(
                    request, f"已为 {volunteer.masked_name} 补录 {makeup_form.cleaned_data['hours']} 小时，待审核。"
                )
            elif action == "invite":
                volunteer = get_object_or_404(Volunteer, pk=request.POST.get("volunteer") or 0)
                services.invite_volunteer(shift, volunteer, by=request.user)
                messages.success(request, f"已邀请 {volunteer.masked_name}。")
            elif action == "decide":
                signup = get_object_or_404(SignUp, pk=request.POST.get("signup") or 0, shift=shift)
                services.decide_signup(signup, approve=request.POST.get("decision") == "approve", by=request.user)
                messages.success(request, "已处理报名。")
            elif action == "cancel":
                signup = get_object_or_404(SignUp, pk=request.POST.get("signup") or 0, shift=shift)
                services.cancel_signup(signup, by=request.user)
                messages.success(request, "已取消该报名。")
            return redirect("volunteers_shift", shift_id=shift.pk)
        except ValidationError as exc:
            messages.error(request, _first_message(exc) if hasattr(exc, "message_dict") else " ".join(exc.messages))
            status = 400
    context = {
        "shift": shift,
        "roster": services.shift_roster(shift),
        "matches": services.matching_volunteers(shift, limit=20),
        "makeup_form": makeup_form,
        "full": services.can_see_personal_data(request.user),
    }
    return render(request, "volunteers/manage/shift.html", context, status=status)


@never_cache
@_manager_required
def shift_code(request, shift_id: int):
    """The coordinator's phone at the door: the code of this minute and a QR that carries it."""
    shift = _managed_shift(request, shift_id)
    code, seconds_left = services.current_checkin_code(shift)
    # On the tenant's primary public URL, where the volunteer's phone is signed in (issue 10).
    url = absolute_url(request.tenant, reverse("volunteers_check") + f"?shift={shift.pk}&code={code}")
    qr_svg = segno.make_qr(url, error="m").svg_inline(scale=5, dark="#000", light="#fff", omitsize=True)
    return render(
        request,
        "volunteers/manage/code.html",
        {"shift": shift, "code": code, "seconds_left": seconds_left, "qr_svg": qr_svg, "check_url": url},
    )


@require_POST
@_manager_required
def decide_hours(request):
    ids = [int(v) for v in request.POST.getlist("record") if v.isdigit()]
    try:
        if request.POST.get("decision") == "reject":
            count = services.reject_hours(ids, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, f"已退回 {count} 条时长记录。")
        else:
            count = services.approve_hours(ids, by=request.user)
            messages.success(request, f"已审核通过 {count} 条时长记录。")
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
    if not ids:
        messages.error(request, "请选择要审核的时长记录。")
    return redirect("volunteers_dashboard")


@never_cache
@_manager_required
def team_detail(request, team_id: int):
    team = get_object_or_404(Team, pk=team_id)
    if not services.can_manage_team(request.user, team):
        raise PermissionDenied
    if request.method == "POST":
        number = (request.POST.get("number") or "").strip()
        volunteer = Volunteer.objects.filter(number=number).first() if number else None
        if volunteer is None:
            volunteer = Volunteer.objects.filter(pk=request.POST.get("volunteer") or 0).first()
        try:
            if volunteer is None:
                raise ValidationError({"number": "志愿者编号：本站没有这个编号的志愿者。"})
            if request.POST.get("action") == "remove":
                services.remove_team_member(team, volunteer, by=request.user)
                messages.success(request, f"已将 {volunteer.masked_name} 移出服务队。")
            else:
                services.add_team_member(
                    team, volunteer, by=request.user, is_leader=request.POST.get("is_leader") == "1"
                )
                messages.success(request, f"已将 {volunteer.masked_name} 加入服务队。")
        except ValidationError as exc:
            messages.error(request, _first_message(exc))
        return redirect("volunteers_team", team_id=team.pk)
    return render(request, "volunteers/manage/team.html", {"team": team, "members": services.team_members(team)})


@require_POST
@login_required
def new_team(request):
    try:
        team = services.create_team(
            name=request.POST.get("name", ""), description=request.POST.get("description", ""), created_by=request.user
        )
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
        return redirect("volunteers_dashboard")
    return redirect("volunteers_team", team_id=team.pk)


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y%m%d}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def export_volunteers(request):
    services.require_coordinator(request.user)
    return _xlsx(exports.volunteers_workbook(full=services.can_see_personal_data(request.user)), "volunteers")


@login_required
def export_hours(request):
    services.require_coordinator(request.user)
    since = request.GET.get("since", "")
    try:
        since_date = datetime.date.fromisoformat(since) if since else None
    except ValueError:
        messages.error(request, "起始日期：请按 年-月-日 填写。")
        return redirect("volunteers_dashboard")
    return _xlsx(
        exports.hours_workbook(full=services.can_see_personal_data(request.user), since=since_date), "volunteer-hours"
    )
