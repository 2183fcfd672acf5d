"""满意度评价 and 需求征集 in the Wagtail admin menu (for people with feedback.manage_feedback)."""

from django.urls import path, reverse_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import admin_views


@hooks.register("register_admin_urls")
def register_feedback_urls():
    return [
        path("feedback/ratings/", admin_views.ratings_index, name="feedback_admin_ratings"),
        path("feedback/ratings/<str:kind>/<int:target_id>/", admin_views.ratings_of, name="feedback_admin_ratings_of"),
        path("feedback/ratings/<int:rating_id>/answer/", admin_views.answer, name="feedback_admin_answer"),
        path("feedback/demands/", admin_views.demands_index, name="feedback_admin_demands"),
        path("feedback/demands/<int:demand_id>/triage/", admin_views.triage, name="feedback_admin_triage"),
    ]


class FeedbackMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.MANAGE)


@hooks.register("register_admin_menu_item")
def register_ratings_menu_item():
    return FeedbackMenuItem(
        "满意度评价", reverse_lazy("feedback_admin_ratings"), name="feedback-ratings", icon_name="pick", order=330
    )


@hooks.register("register_admin_menu_item")
def register_demands_menu_item():
    return FeedbackMenuItem(
        "需求征集", reverse_lazy("feedback_admin_demands"), name="feedback-demands", icon_name="form", order=331
    )
