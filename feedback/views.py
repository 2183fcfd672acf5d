"""Public pages of feedback/: rate what you took part in, send a demand request, follow yours.
Thin: feedback.services does every write and every refusal."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_ratelimit.core import get_usage

from core.client_address import client_address
from core.ratelimits import _wait_text

from . import services
from .forms import DemandForm, RatingForm, add_refusal
from .models import Rating

MY_RATINGS_SHOWN = 50
MY_DEMANDS_SHOWN = 100


@never_cache
@login_required
def mine(request):
    """我的评价: what is waiting for a rating, and the ratings given (with staff answers)."""
    ratings = list(
        Rating.objects.filter(user=request.user)
        .select_related("activity", "course", "opportunity")
        .order_by("-created_at")[:MY_RATINGS_SHOWN]
    )
    return render(
        request,
        "feedback/mine.html",
        {"to_rate": services.things_to_rate(request.user), "ratings": ratings},
    )


@never_cache
@login_required
def rate(request, kind: str, target_id: int):
    if kind not in Rating.Kind.values:
        raise Http404("没有这种评价对象")
    target = services.target_of(kind, target_id)
    if target is None:
        raise Http404("没有找到要评价的活动、课程或志愿服务")
    form = RatingForm(request.POST or None)
    status = 200
    refusal = None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.rate(request.user, kind, target.pk, form.cleaned_data["score"], form.cleaned_data["comment"])
            except services.FeedbackRefused as refused:
                add_refusal(form, refused)
                status = refused.status
            else:
                messages.success(request, f"感谢您对“{services.target_title(target)}”的评价！")
                return redirect("feedback:mine")
        else:
            status = 400
    else:
        existing = Rating.objects.filter(user=request.user, **{services.TARGET_FIELD[kind]: target}).exists()
        if existing:
            refusal = f"您已经评价过“{services.target_title(target)}”，每人只能评价一次。"
            status = 409
        elif not services.has_taken_part(request.user, kind, target):
            refusal = services._NOT_TAKEN_PART[kind] + "。"
            status = 403
    return render(
        request,
        "feedback/rate.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": Rating.Kind(kind).label,
            "target": target,
            "target_url": services.target_url(kind, target),
            "refusal": refusal,
        },
        status=status,
    )


def _demand_limited(request) -> int | None:
    """Seconds to wait when this person or this address sent too many requests to this site."""
    schema = connection.schema_name
    counters = (
        (f"demand:{schema}", f"user:{request.user.pk}", settings.RATE_LIMITS["demand"]),
        (f"demand_address:{schema}", client_address(request), settings.RATE_LIMITS["demand_address"]),
    )
    for group, value, rate in counters:
        if not rate:
            continue
        usage = get_usage(request, group=group, key=lambda _g, _r, value=value: value, rate=rate, increment=True)
        if usage is not None and usage["should_limit"]:
            return max(usage["time_left"], 1)
    return None


@never_cache
@login_required
def demand(request):
    """需求征集: what would you like this site to offer next?"""
    form = DemandForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            wait = _demand_limited(request)
            if wait is not None:
                form.add_error(
                    None, f"提交过于频繁：请 {_wait_text(wait)}后再提交需求。已提交的需求可在“我的需求”中查看。"
                )
                response = render(request, "feedback/demand.html", {"form": form}, status=429)
                response["Retry-After"] = str(wait)
                return response
            try:
                services.submit_demand(request.user, **form.cleaned_data)
            except services.FeedbackRefused as refused:
                add_refusal(form, refused)
                status = refused.status
            else:
                messages.success(request, "需求已提交，工作人员处理后会通知您。")
                return redirect("feedback:demand_mine")
        else:
            status = 400
    return render(request, "feedback/demand.html", {"form": form}, status=status)


@never_cache
@login_required
def demand_mine(request):
    demands = list(services.my_demands(request.user)[:MY_DEMANDS_SHOWN])
    return render(request, "feedback/demand_mine.html", {"demands": demands})
