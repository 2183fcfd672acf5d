"""投票审计: suspicious patterns of one campaign and voiding votes with a reason (kept, marked)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .models import Vote

AUDIT = "campaigns.audit_votes"
PAGE_SIZE = 100


def _require_auditor(request) -> None:
    if not request.user.has_perm(AUDIT):
        raise PermissionDenied


def _campaign(campaign_id: int):
    from cms_pages.models import CampaignPage

    return get_object_or_404(CampaignPage, pk=campaign_id)


def audit_index(request):
    from cms_pages.models import CampaignPage

    _require_auditor(request)
    campaigns = CampaignPage.objects.order_by("-start")
    return render(request, "campaigns/admin/audit_index.html", {"campaigns": campaigns})


def audit_campaign(request, campaign_id: int):
    _require_auditor(request)
    campaign = _campaign(campaign_id)
    votes = Vote.objects.filter(campaign=campaign).select_related("entry", "voter", "voided_by").order_by("-created_at")
    network = request.GET.get("network", "").strip()[:50]
    if network:
        votes = votes.filter(network=network)
    if request.GET.get("voided") == "1":
        votes = votes.filter(voided_at__isnull=False)
    page_obj = Paginator(votes, PAGE_SIZE).get_page(request.GET.get("p"))
    return render(
        request,
        "campaigns/admin/audit_campaign.html",
        {
            "campaign": campaign,
            "networks": services.suspicious_networks(campaign),
            "new_accounts": services.suspicious_accounts(campaign),
            "tally": services.tally(campaign),
            "page_obj": page_obj,
            "network": network,
        },
    )


@require_POST
def void(request, campaign_id: int):
    _require_auditor(request)
    campaign = _campaign(campaign_id)
    ids = [int(v) for v in request.POST.getlist("vote") if v.isdigit()]
    try:
        changed = services.void_votes(campaign, ids, request.user, request.POST.get("reason", ""))
    except services.VoteRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"已作废 {changed} 票（保留记录，不再计票）")
    return redirect("campaigns_audit_campaign", campaign_id=campaign.pk)
