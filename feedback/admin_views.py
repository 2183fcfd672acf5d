"""满意度评价 and 需求征集 in the Wagtail admin: averages per thing, answers, publishing, triage.

Only people with `feedback.manage_feedback` (站点管理员, 审核员: roles/services.py) get here.
Raters are shown masked (王**), as on the public pages: staff answer a rating, not a person.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .forms import AnswerForm, TriageForm
from .models import DemandRequest, Rating

MANAGE = "feedback.manage_feedback"
PAGE_SIZE = 50


def _require_staff(request) -> None:
    if not request.user.has_perm(MANAGE):
        raise PermissionDenied


def ratings_index(request):
    _require_staff(request)
    kind = request.GET.get("kind", "")
    if kind not in Rating.Kind.values:
        kind = ""
    summary = services.rating_summary(kind or None)
    total = sum(row["count"] for row in summary)
    average = round(sum(row["average"] * row["count"] for row in summary) / total, 2) if total else None
    return render(
        request,
        "feedback/admin/ratings_index.html",
        {"summary": summary, "kinds": Rating.Kind.choices, "kind": kind, "total": total, "average": average},
    )


def ratings_of(request, kind: str, target_id: int):
    _require_staff(request)
    if kind not in Rating.Kind.values:
        raise Http404
    target = services.target_of(kind, target_id)
    if target is None:
        raise Http404
    ratings = (
        Rating.objects.filter(**{services.TARGET_FIELD[kind]: target})
        .select_related("user", "answered_by")
        .order_by("-created_at", "-pk")
    )
    only = request.GET.get("only", "")
    if only == "unanswered":
        ratings = ratings.filter(answer="")
    page_obj = Paginator(ratings, PAGE_SIZE).get_page(request.GET.get("p"))
    for rating in page_obj:
        rating.form = AnswerForm(
            initial={"answer": rating.answer, "published": rating.published}, prefix=f"r{rating.pk}"
        )
    return render(
        request,
        "feedback/admin/ratings_of.html",
        {
            "kind": kind,
            "kind_label": Rating.Kind(kind).label,
            "target": target,
            "target_url": services.target_url(kind, target),
            "page_obj": page_obj,
            "only": only,
            "scores": _score_counts(kind, target),
        },
    )


def _score_counts(kind: str, target) -> list[tuple[int, int]]:
    counts = dict(
        Rating.objects.filter(**{services.TARGET_FIELD[kind]: target})
        .values_list("score")
        .annotate(n=Count("pk"))
        .values_list("score", "n")
    )
    return [(score, counts.get(score, 0)) for score in range(5, 0, -1)]


@require_POST
def answer(request, rating_id: int):
    _require_staff(request)
    rating = get_object_or_404(Rating, pk=rating_id)
    form = AnswerForm(request.POST, prefix=f"r{rating.pk}")
    back = redirect("feedback_admin_ratings_of", kind=rating.kind, target_id=rating.target_id)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{' '.join(errors)}" if label else " ".join(errors))
        return back
    try:
        services.answer_rating(
            rating, request.user, form.cleaned_data["answer"], publish=form.cleaned_data["published"]
        )
    except services.FeedbackRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, "已保存回复并公开展示" if rating.published else "已保存回复（未公开）")
    return back


def demands_index(request):
    _require_staff(request)
    demands = DemandRequest.objects.select_related("user", "decided_by").order_by("-created_at", "-pk")
    status = request.GET.get("status", "")
    if status in DemandRequest.Status.values:
        demands = demands.filter(status=status)
    else:
        status = ""
    category = request.GET.get("category", "")
    if category in DemandRequest.Category.values:
        demands = demands.filter(category=category)
    else:
        category = ""
    page_obj = Paginator(demands, PAGE_SIZE).get_page(request.GET.get("p"))
    for demand in page_obj:
        demand.form = TriageForm(initial={"status": demand.status, "reason": demand.reason}, prefix=f"d{demand.pk}")
    counts = dict(DemandRequest.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return render(
        request,
        "feedback/admin/demands_index.html",
        {
            "page_obj": page_obj,
            "status": status,
            "category": category,
            "statuses": [(value, label, counts.get(value, 0)) for value, label in DemandRequest.Status.choices],
            "categories": DemandRequest.Category.choices,
        },
    )


@require_POST
def triage(request, demand_id: int):
    _require_staff(request)
    demand = get_object_or_404(DemandRequest, pk=demand_id)
    form = TriageForm(request.POST, prefix=f"d{demand.pk}")
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{' '.join(errors)}" if label else " ".join(errors))
    else:
        try:
            services.triage(demand, request.user, form.cleaned_data["status"], form.cleaned_data["reason"])
        except services.FeedbackRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, f"需求 #{demand.pk} 已标记为“{demand.get_status_display()}”")
    next_url = request.POST.get("next", "")
    if next_url.startswith("/admin/feedback/demands/"):
        return redirect(next_url)
    return redirect("feedback_admin_demands")
