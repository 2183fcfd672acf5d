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
    return {"ratings": ratings, "kind_label": Rating.Kind(kind).label if kind else ""}


@register.inclusion_tag("feedback/_rating_prompt.html", takes_context=True)
def rating_prompt(context):
    """待评价: how many things the signed-in person may rate, with a link (nothing when none)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"count": len(services.things_to_rate(user)) if user is not None else 0}
