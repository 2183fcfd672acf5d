"""Published ratings on activity/course/opportunity pages, and the "to rate" prompt on personal pages."""

from __future__ import annotations

from django import template

from .. import services
from ..models import Rating

register = template.Library()


def _kind_of(target) -> str | None:
    name = type(target).__name__
    return {"ActivityPage": "activity", "Course": "course", "OpportunityPage": "volunteering"}.get(name)


@register.inclusion_tag("feedback/_published_ratings.html")
def published_ratings(target):
    """评价与回复: the ratings staff published on this thing, raters masked (王**)."""
    kind = _kind_of(target)
    ratings = services.published_ratings(kind, target) if kind and target is not None else []
    overview = services.rating_overview(kind, target) if ratings else None
    return {"ratings": ratings, "overview": overview, "kind_label": Rating.Kind(kind).label if kind else ""}


@register.inclusion_tag("feedback/_rating_prompt.html", takes_context=True)
def rating_prompt(context, kind: str):
    """待评价: how many activities/courses/opportunities the signed-in person may still rate,
    with a link to 我的评价 (nothing when none). One query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "count": services.count_to_rate(user, kind) if user is not None else 0,
        "unit": {"activity": "个活动", "course": "门课程", "volunteering": "项志愿服务"}[kind],
    }
