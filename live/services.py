"""Every write of live comments: posting (with its checks), hiding, pinning and muting.

Consumers (live.consumers) call these inside the tenant's schema (core.websockets.in_tenant);
they raise `CommentRefused` with the Chinese message the person sees.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
import zlib

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .models import COMMENT_MAX_LENGTH, LiveComment, LiveMute, SensitiveWord

# One comment per person per stream every COMMENT_INTERVAL.
COMMENT_INTERVAL = datetime.timedelta(seconds=3)
RECENT_COMMENTS = 50
MAX_MUTE_MINUTES = 24 * 60
_SENSITIVE_KEY = "live:sensitive-words"
# Control characters (other than none) never reach storage: they hide text or break displays.
_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SEPARATORS = re.compile(r"[\s\.\-_·•*＊/\\|,，。!！?？~～]+")


class CommentRefused(Exception):
    """A comment or moderation action that is not allowed; `message` is shown to the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def display_name(user) -> str:
    """The name a comment shows: the chosen display name, else the username — never real-name data."""
    return (user.first_name or user.get_username())[:150]


def _normalised(text: str) -> str:
    # Full-width letters, spaces and separators put between characters must not slip a word past.
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).casefold())


def sensitive_words() -> list[str]:
    """The tenant's list, normalised; cached in the tenant's cache until the list changes."""
    words = cache.get(_SENSITIVE_KEY)
    if words is None:
        words = sorted({_normalised(w) for w in SensitiveWord.objects.values_list("word", flat=True)} - {""})
        cache.set(_SENSITIVE_KEY, words, 3600)
    return words


def forget_sensitive_words(**kwargs) -> None:
    cache.delete(_SENSITIVE_KEY)


def find_sensitive_word(text: str) -> str | None:
    normalised = _normalised(text)
    return next((word for word in sensitive_words() if word in normalised), None)


def clean_comment_body(body: object) -> str:
    if not isinstance(body, str):
        raise CommentRefused("评论内容格式不正确")
    body = _CONTROL.sub("", body).strip()
    if not body:
        raise CommentRefused("评论不能为空")
    if len(body) > COMMENT_MAX_LENGTH:
        raise CommentRefused(f"评论不能超过 {COMMENT_MAX_LENGTH} 字（现在 {len(body)} 字）")
    return body


def _lock_person(page_id: int, user_id: int) -> None:
    # Serialises one person's comments on one stream across processes (rate limit, mute check).
    key = zlib.crc32(f"{connection.schema_name}:live:{page_id}:{user_id}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x4C495645, key - 2**31])


def post_comment(page, user, body: object, *, now: datetime.datetime | None = None) -> LiveComment:
    """Store a live comment, or raise CommentRefused saying why not (nothing is stored then)."""
    now = now or timezone.now()
    if user is None or not user.is_authenticated or not user.is_active:
        raise CommentRefused("请先登录后再发表评论")
    if not page.comments_open(now):
        raise CommentRefused("直播未在进行中，评论已关闭")
    body = clean_comment_body(body)
    if find_sensitive_word(body):
        raise CommentRefused("评论包含不当用语，未发送，请修改后再试")
    with transaction.atomic():
        _lock_person(page.pk, user.pk)
        mute = LiveMute.objects.filter(page=page, user=user, until__gt=now).first()
        if mute is not None:
            until = timezone.localtime(mute.until)
            raise CommentRefused(f"你已被管理员禁言，{until:%H:%M} 后可再发言")
        last = (
            LiveComment.objects.filter(page=page, author=user)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
        ).first()
        if last is not None and now - last < COMMENT_INTERVAL:
            wait = max(1, round((COMMENT_INTERVAL - (now - last)).total_seconds()))
            raise CommentRefused(f"发言太快了，请 {wait} 秒后再试")
        comment = LiveComment.objects.create(page=page, author=user, author_name=display_name(user), body=body)
    return comment


def visible_comments(page, limit: int = RECENT_COMMENTS) -> list[LiveComment]:
    """The newest visible comments, oldest first (the order a chat reads in)."""
    recent = list(LiveComment.objects.filter(page=page, hidden_at__isnull=True).order_by("-created_at", "-pk")[:limit])
    return recent[::-1]


def pinned_comment(page) -> LiveComment | None:
    return (
        LiveComment.objects.filter(page=page, hidden_at__isnull=True, pinned_at__isnull=False)
        .order_by("-pinned_at")
        .first()
    )


def _moderated_comment(page, comment_id: object) -> LiveComment:
    if not isinstance(comment_id, int) or isinstance(comment_id, bool):
        raise CommentRefused("评论编号不正确")
    comment = LiveComment.objects.filter(page=page, pk=comment_id).first()
    if comment is None:
        raise CommentRefused("没有找到这条评论")
    return comment


def can_moderate(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm("live.moderate_livecomment"))


def _require_moderator(user) -> None:
    if not can_moderate(user):
        raise CommentRefused("只有本站管理员可以管理评论")


def hide_comment(page, moderator, comment_id: object) -> LiveComment:
    _require_moderator(moderator)
    comment = _moderated_comment(page, comment_id)
    if comment.hidden_at is None:
        comment.hidden_at, comment.hidden_by, comment.pinned_at = timezone.now(), moderator, None
        comment.save(update_fields=["hidden_at", "hidden_by", "pinned_at"])
    return comment


def pin_comment(page, moderator, comment_id: object) -> LiveComment | None:
    """Pin one comment (the previous pin goes); `None` as the id unpins."""
    _require_moderator(moderator)
    with transaction.atomic():
        LiveComment.objects.filter(page=page, pinned_at__isnull=False).update(pinned_at=None)
        if comment_id is None:
            return None
        comment = _moderated_comment(page, comment_id)
        if comment.hidden_at is not None:
            raise CommentRefused("已隐藏的评论不能置顶")
        comment.pinned_at = timezone.now()
        comment.save(update_fields=["pinned_at"])
    return comment


def mute_person(page, moderator, comment_id: object, minutes: object) -> LiveMute:
    """Silence the author of a comment on this stream for `minutes` (their comment stays as it is)."""
    _require_moderator(moderator)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_MUTE_MINUTES:
        raise CommentRefused(f"禁言时长须为 1 到 {MAX_MUTE_MINUTES} 分钟")
    comment = _moderated_comment(page, comment_id)
    if comment.author_id == moderator.pk:
        raise CommentRefused("不能禁言自己")
    until = timezone.now() + datetime.timedelta(minutes=minutes)
    mute, _ = LiveMute.objects.update_or_create(
        page=page, user_id=comment.author_id, defaults={"until": until, "muted_by": moderator}
    )
    return mute


def comment_frame(comment: LiveComment) -> dict:
    """What a browser receives of a comment: no account id, no real-name data."""
    return {
        "id": comment.pk,
        "author": comment.author_name,
        "body": comment.body,
        "at": timezone.localtime(comment.created_at).strftime("%H:%M"),
        "pinned": comment.pinned_at is not None,
    }
