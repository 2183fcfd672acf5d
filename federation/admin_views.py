"""国家平台对接 in the Wagtail admin: federation status, delivery log, dead letters, subscriptions.

Thin views: reads are querysets of the current tenant's schema (so another site's rows are a 404),
writes go through `federation.services` / `federation.sync`. Every view checks a Django model
permission on the federation models (granted to roles by roles.services.DEFAULT_ROLES).
"""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, CharField, F, OuterRef, Subquery, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from . import pull, services, sync
from .forms import SubscriptionForm
from .models import DeliveryAttempt, OutboxEntry, Record, Subscription

PAGE_SIZE = 50

VIEW_RECORDS = "federation.view_record"
FEATURE_RECORDS = "federation.change_record"
VIEW_LOG = "federation.view_deliveryattempt"
VIEW_DEAD = "federation.view_outboxentry"
RETRY_DEAD = "federation.change_outboxentry"
VIEW_SUBSCRIPTIONS = "federation.view_subscription"
ADD_SUBSCRIPTION = "federation.add_subscription"
CHANGE_SUBSCRIPTION = "federation.change_subscription"

# Federation status shown per item (computed; see `records_with_status`).
STATUSES = {
    "pending": "待同步",
    "synced": "已同步",
    "failed": "失败",
    "diverged": "本地已修改",
    "forked": "已独立",
    "received": "已接收",
    "local": "未推送",
}
KINDS = {"news": "新闻", "activity": "活动", "resource": "数字资源"}


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("p"))


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("p", None)
    return params.urlencode()


def records_with_status():
    """Records annotated with `fed_status` (a key of STATUSES) and the latest outbox error.

    Own items: the state of their latest outbox entry (pending → pending, delivered → synced,
    dead letter → failed), or "local" when never pushed. Pulled copies: their sync state.
    Items pushed to this (national) site: "received".
    """
    latest = OutboxEntry.objects.filter(record=OuterRef("pk")).order_by("-pk")
    return Record.objects.annotate(
        outbox_state=Subquery(latest.values("state")[:1]),
        outbox_error=Subquery(latest.values("last_error")[:1]),
    ).annotate(
        fed_status=Case(
            When(subscription__isnull=False, then=F("sync_state")),
            When(outbox_state=OutboxEntry.State.PENDING, then=Value("pending")),
            When(outbox_state=OutboxEntry.State.DEAD, then=Value("failed")),
            When(outbox_state=OutboxEntry.State.DELIVERED, then=Value("synced")),
            When(is_local=False, then=Value("received")),
            default=Value("local"),
            output_field=CharField(),
        )
    )


def status_index(request):
    _require(request, VIEW_RECORDS)
    national = services.is_national_schema()
    scope = "received" if request.GET.get("scope") == "received" else "local"
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    records = records_with_status().filter(is_local=(scope == "local")).select_related("subscription")
    if status in STATUSES:
        records = records.filter(fed_status=status)
    if kind in KINDS:
        records = records.filter(kind=kind)
    page = _page_of(request, records.order_by("-changed_at", "-pk"))
    # The national site does not push: its own items are the catalogue itself.
    statuses = {**STATUSES, "local": "本站目录"} if national else STATUSES
    for record in page:
        record.status_label = statuses.get(record.fed_status, record.fed_status)
        record.kind_label = KINDS.get(record.kind, record.kind)
    can_feature = national and request.user.has_perm(FEATURE_RECORDS) and hasattr(services, "set_featured")
    return render(
        request,
        "federation/admin/status_index.html",
        {
            "page_obj": page,
            "query": _query_without_page(request),
            "scope": scope,
            "status": status,
            "kind": kind,
            "statuses": statuses,
            "kinds": KINDS,
            "national": national,
            "received_label": "收到的记录" if national else "订阅的内容",
            "can_feature": can_feature and scope == "received",
        },
    )


@require_POST
def record_feature(request, record_id: int):
    """On the national site: feature an item pushed to it on the home page, or stop featuring it."""
    _require(request, FEATURE_RECORDS)
    if not services.is_national_schema() or not hasattr(services, "set_featured"):
        raise PermissionDenied
    record = get_object_or_404(Record, pk=record_id, is_local=False)
    featured = request.POST.get("featured") == "1"
    try:
        services.set_featured(record, featured, by=request.user)
    except ValueError as exc:
        messages.error(request, f"{record.title}：{exc}")
    else:
        messages.success(request, f"已{'推荐' if featured else '取消推荐'}：{record.title}")
    return redirect(_back(request, reverse("federation_admin_status") + "?scope=received"))


def _back(request, default: str) -> str:
    """Where to go after a POST: the list the button was on (same host only)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- Diff ------------------------------------------------------------------------------------------


def inline_diff(old: str, new: str):
    """Character-level diff of two texts (Chinese has no spaces to split on): <del> and <ins>."""
    old, new = str(old or ""), str(new or "")
    parts = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(conditional_escape(old[a1:a2]))
        if op in ("delete", "replace"):
            parts.append(format_html("<del>{}</del>", old[a1:a2]))
        if op in ("insert", "replace"):
            parts.append(format_html("<ins>{}</ins>", new[b1:b2]))
    return mark_safe("".join(parts))  # noqa: S308 (every part is escaped above)


def record_diff(request, record_id: int):
    _require(request, VIEW_RECORDS)
    record = get_object_or_404(Record.objects.select_related("subscription"), pk=record_id)
    rows = None
    if record.page_id and record.subscription_id:
        rows = [
            {**row, "changes": inline_diff(row.get("upstream", ""), row.get("local", ""))}
            for row in pull.diff_against_upstream(record)
        ]
    return render(request, "federation/admin/record_diff.html", {"record": record, "rows": rows})


# --- Delivery log ----------------------------------------------------------------------------------

DIRECTIONS = {"push": "推送", "pull": "拉取"}


def delivery_log(request):
    _require(request, VIEW_LOG)
    outcome = request.GET.get("outcome", "")
    direction = request.GET.get("direction", "")
    attempts = DeliveryAttempt.objects.select_related("outbox__record", "subscription").defer(
        "outbox__envelope", "outbox__record__envelope", "outbox__record__search_text"
    )
    if outcome in DeliveryAttempt.Outcome.values:
        attempts = attempts.filter(outcome=outcome)
    if direction in DIRECTIONS:
        attempts = attempts.filter(direction=direction)
    page = _page_of(request, attempts.order_by("-at", "-id"))
    return render(
        request,
        "federation/admin/delivery_log.html",
        {
            "page_obj": page,
            "query": _query_without_page(request),
            "outcome": outcome,
            "direction": direction,
            "outcomes": DeliveryAttempt.Outcome.choices,
            "directions": DIRECTIONS,
        },
    )


# --- Dead letters ----------------------------------------------------------------------------------


def dead_letters(request):
    _require(request, VIEW_DEAD)
    entries = (
        OutboxEntry.objects.filter(state=OutboxEntry.State.DEAD)
        .select_related("record")
        .defer("envelope", "record__envelope", "record__search_text")
        .order_by("-pk")
    )
    return render(
        request,
        "federation/admin/dead_letters.html",
        {"page_obj": _page_of(request, entries), "can_retry": request.user.has_perm(RETRY_DEAD)},
    )


@require_POST
def dead_letters_retry(request):
    """重试: one dead letter (`entry`) or all of them (`all`); delivery then runs as a task."""
    _require(request, RETRY_DEAD)
    if request.POST.get("all"):
        count = services.retry_dead_letters()
    else:
        try:
            entry_id = int(request.POST.get("entry", ""))
        except ValueError:
            messages.error(request, "请选择要重试的条目（entry）。")
            return redirect("federation_admin_dead_letters")
        entry = get_object_or_404(OutboxEntry, pk=entry_id, state=OutboxEntry.State.DEAD)
        count = services.retry_dead_letters([entry.pk])
    if count:
        messages.success(request, f"已将 {count} 条重新加入推送队列，稍后自动投递。")
    else:
        messages.info(request, "没有需要重试的条目。")
    return redirect("federation_admin_dead_letters")


# --- Subscriptions ---------------------------------------------------------------------------------


def subscription_index(request):
    _require(request, VIEW_SUBSCRIPTIONS)
    subscriptions = Subscription.objects.select_related("peer", "parent_page").order_by("-active", "name")
    return render(
        request,
        "federation/admin/subscription_index.html",
        {
            "subscriptions": subscriptions,
            "can_add": request.user.has_perm(ADD_SUBSCRIPTION),
            "can_change": request.user.has_perm(CHANGE_SUBSCRIPTION),
        },
    )


def _form_errors(form, exc: ValidationError) -> None:
    """Service errors onto the form; the template names the field, so a leading "label：" goes."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        if field not in form.fields:
            form.add_error(None, [f"{field}：{m}" for e in errors for m in e.messages])
            continue
        prefix = f"{form.fields[field].label}："
        form.add_error(field, [m.removeprefix(prefix) for e in errors for m in e.messages])


def subscription_create(request):
    _require(request, ADD_SUBSCRIPTION)
    form = SubscriptionForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = pull.subscribe(
                peer=form.cleaned_data["peer"],
                set_spec=form.cleaned_data["set_spec"],
                parent_page=form.cleaned_data["parent_page"],
                policy=form.cleaned_data["policy"],
                auto_publish=form.cleaned_data["auto_publish"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已创建订阅：{subscription.name}")
            return redirect("federation_admin_subscriptions")
    return render(request, "federation/admin/subscription_form.html", {"form": form, "subscription": None})


def subscription_edit(request, subscription_id: int):
    _require(request, CHANGE_SUBSCRIPTION)
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    form = SubscriptionForm(request.POST or None, creating=False, subscription=subscription)
    if request.method == "POST" and form.is_valid():
        try:
            sync.update_subscription(subscription, **form.changes())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已保存订阅：{subscription.name}")
            return redirect("federation_admin_subscriptions")
    return render(request, "federation/admin/subscription_form.html", {"form": form, "subscription": subscription})


@require_POST
def subscription_active(request, subscription_id: int):
    """停用 / 启用 a subscription."""
    _require(request, CHANGE_SUBSCRIPTION)
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    active = request.POST.get("active") == "1"
    sync.set_subscription_active(subscription, active)
    messages.success(request, f"已{'启用' if active else '停用'}订阅：{subscription.name}")
    return redirect("federation_admin_subscriptions")


@require_POST
def subscription_sync_now(request, subscription_id: int):
    """立即同步: queued as a background task, never run inside the request."""
    _require(request, CHANGE_SUBSCRIPTION)
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    if not subscription.active:
        messages.error(request, f"订阅“{subscription.name}”已停用，请先启用。")
    else:
        sync.enqueue_subscription_sync(subscription)
        messages.success(request, f"已开始同步“{subscription.name}”，稍后刷新查看结果。")
    return redirect("federation_admin_subscriptions")
