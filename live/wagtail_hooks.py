"""直播互动 in the Wagtail admin: the tenant's sensitive words and a log of live comments.

Hiding, pinning and muting happen live on the stream page itself (moderators see the buttons);
here staff read the whole history, hidden comments included, and keep the word list.
"""

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from .models import LiveComment, SensitiveWord


class SensitiveWordViewSet(ModelViewSet):
    name = "live_sensitive_words"
    model = SensitiveWord
    menu_label = "敏感词"
    icon = "warning"
    add_to_admin_menu = False
    list_display = ["word", "created_at"]
    search_fields = ["word"]
    form_fields = ["word"]


class LiveCommentViewSet(ModelViewSet):
    name = "live_comments"
    model = LiveComment
    menu_label = "直播评论"
    icon = "comment"
    add_to_admin_menu = False
    inspect_view_enabled = True
    list_display = ["body", "author_name", "page", "created_at", "hidden_at", "pinned_at"]
    list_filter = ["page", "hidden_at", "pinned_at"]
    search_fields = ["body", "author_name"]
    # Comments are what people wrote: the roles grant only view_livecomment, so staff read and
    # inspect them here and never create or rewrite one.
    form_fields = ["body"]


class LiveViewSetGroup(ModelViewSetGroup):
    menu_label = "直播互动"
    menu_icon = "media"
    menu_order = 310
    items = (LiveCommentViewSet, SensitiveWordViewSet)


@hooks.register("register_admin_viewset")
def register_live_viewsets():
    return LiveViewSetGroup()
