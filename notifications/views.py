"""消息 in the personal centre: the list, mark one or all read (this site's messages only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import services
from .models import Notification


@login_required
def message_list(request):
    page = Paginator(services.messages_for(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/message_list.html",
        {"message_page": page, "unread": services.unread_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request, notification_id: int):
    try:
        notification = services.mark_read(request.user, notification_id)
    except Notification.DoesNotExist:
        raise Http404("没有这条消息") from None
    if request.POST.get("open") and notification.link:
        return redirect(notification.link)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_all_read(request.user)
    messages.success(request, f"已将 {count} 条消息标为已读。")
    return redirect("notifications:list")
