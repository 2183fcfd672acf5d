"""Public campaign actions: vote, send in a work. Thin: campaigns.services does the work.

Both answer a form post (redirect back to the campaign with a message) and a script's fetch
(`Accept: application/json`: JSON with the message, 200 or 4xx), so voting works without
JavaScript too.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.client_address import client_address

from . import services


def _campaign(page_id: int):
    from cms_pages.models import CampaignPage

    campaign = CampaignPage.objects.live().public().filter(pk=page_id).first()
    if campaign is None:
        raise Http404("没有找到这个投票活动")
    return campaign


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _answer(request, campaign, *, ok: bool, message: str, status: int = 200, **extra):
    if _wants_json(request):
        return JsonResponse({"ok": ok, "message": message, **extra}, status=status)
    (messages.success if ok else messages.error)(request, message)
    return HttpResponseRedirect(campaign.url + "#entries")


@require_POST
def vote(request, page_id: int):
    campaign = _campaign(page_id)
    try:
        cast = services.cast_vote(campaign, request.POST.get("entry"), request.user, address=client_address(request))
    except services.VoteRefused as refused:
        status = 403 if not request.user.is_authenticated else 409
        return _answer(request, campaign, ok=False, message=refused.message, status=status, field=refused.field)
    left = services.votes_left_today(campaign, request.user)
    return _answer(
        request,
        campaign,
        ok=True,
        message=_("投票成功！今天还可以投 %(left)s 票") % {"left": left} if left else _("投票成功！今天的票已全部投出"),
        entry=cast.entry_id,
        left=left,
    )


@require_POST
def submit(request, page_id: int):
    campaign = _campaign(page_id)
    try:
        services.submit_entry(
            campaign,
            request.user,
            title=request.POST.get("title", ""),
            author=request.POST.get("author", ""),
            description=request.POST.get("description", ""),
        )
    except services.VoteRefused as refused:
        return _answer(request, campaign, ok=False, message=refused.message, status=400, field=refused.field)
    return _answer(request, campaign, ok=True, message=_("作品已报送，审核通过后将出现在投票页"))
