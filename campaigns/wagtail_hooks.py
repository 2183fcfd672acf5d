"""征集投票 in the Wagtail admin: entries (参赛作品, review of public submissions) and 投票审计."""

from django.urls import path, reverse_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet

from . import admin_views
from .models import CampaignEntry


class CampaignEntryViewSet(ModelViewSet):
    model = CampaignEntry
    menu_label = "参赛作品"
    icon = "pick"
    menu_order = 320
    add_to_admin_menu = True
    list_display = ["__str__", "author", "campaign", "status", "created_at"]
    list_filter = ["campaign", "status"]
    search_fields = ["title", "author"]


@hooks.register("register_admin_viewset")
def register_entry_viewset():
    return CampaignEntryViewSet("campaign_entries")


@hooks.register("register_admin_urls")
def register_audit_urls():
    return [
        path("campaigns/audit/", admin_views.audit_index, name="campaigns_audit"),
        path("campaigns/audit/<int:campaign_id>/", admin_views.audit_campaign, name="campaigns_audit_campaign"),
        path("campaigns/audit/<int:campaign_id>/void/", admin_views.void, name="campaigns_audit_void"),
    ]


class AuditMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(admin_views.AUDIT)


@hooks.register("register_admin_menu_item")
def register_audit_menu_item():
    return AuditMenuItem(
        "投票审计", reverse_lazy("campaigns_audit"), name="campaigns-audit", icon_name="warning", order=321
    )
