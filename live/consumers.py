"""Live comments over a websocket: /ws/live/<page id>/ on the tenant's host.

Frames from the browser (JSON objects, at most MAX_FRAME_BYTES):
    {"type": "comment", "body": "..."}            signed-in people, while comments are open
    {"type": "ping"}                               keeps the viewer counted; answered with the count
    {"type": "hide", "id": 12}                     moderators
    {"type": "pin", "id": 12} / {"type": "pin", "id": null}
    {"type": "mute", "id": 12, "minutes": 10}      silences the author of comment 12
Frames to the browser: "hello" (state, recent comments, pinned, viewers, what this person may
do), "comment", "hidden", "pinned", "viewers", "error" (a Chinese message; nothing was stored).

Every database call runs inside the tenant of the connection (core.websockets.in_tenant); the
group is named after the tenant's schema, so another tenant's consumers never share it.
"""

from __future__ import annotations

import json
import time

from core.websockets import TenantConsumer, group_event, in_tenant, tenant_group

from . import services, viewers

MAX_FRAME_BYTES = 4096
# A client may send at most FLOOD_FRAMES frames in FLOOD_SECONDS; past that it is disconnected.
FLOOD_FRAMES = 20
FLOOD_SECONDS = 10
CLOSE_POLICY = 4408  # a flood or a forbidden stream: the browser does not reconnect at once
CLOSE_TOO_BIG = 1009


class LiveCommentsConsumer(TenantConsumer):
    async def connect(self):
        self.page = None
        self.user = self.scope.get("user")
        self.frame_times: list[float] = []
        page_id = self.scope["url_route"]["kwargs"]["page_id"]
        state = await in_tenant(self.scope)(self._load)(page_id)
        if state is None:
            await self.close(code=4404)
            return
        self.group = tenant_group(self.scope, "live", self.page.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        count = await viewers.joined(self.scope["tenant"].schema_name, self.page.pk, self.channel_name)
        await self.send_json({"type": "hello", **state, "viewers": count})
        await self._announce_viewers(count)

    def _load(self, page_id: int):
        from cms_pages.models import LiveStreamPage

        page = LiveStreamPage.objects.live().public().filter(pk=page_id).first()
        if page is None:
            return None  # unpublished, restricted, another tenant's id or no such page
        self.page = page
        pinned = services.pinned_comment(page)
        return {
            "status": page.status,
            "open": page.comments_open(),
            "signed_in": bool(self.user and self.user.is_authenticated),
            "moderator": services.can_moderate(self.user),
            "comments": [services.comment_frame(c) for c in services.visible_comments(page)],
            "pinned": services.comment_frame(pinned) if pinned else None,
        }

    async def disconnect(self, code):
        if getattr(self, "page", None) is None:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        count = await viewers.left(self.scope["tenant"].schema_name, self.page.pk, self.channel_name)
        await self._announce_viewers(count)

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None or text_data is None:
            await self.send_error("只接受文本消息")
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error("消息过长，连接已断开")
            await self.close(code=CLOSE_TOO_BIG)
            return
        if self._flooding():
            await self.send_error("发送过于频繁，连接已断开，请稍后刷新页面")
            await self.close(code=CLOSE_POLICY)
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error("消息格式不正确")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error("消息格式不正确")
            return
        handler = {
            "comment": self._comment,
            "ping": self._ping,
            "hide": self._hide,
            "pin": self._pin,
            "mute": self._mute,
        }.get(frame["type"])
        if handler is None:
            await self.send_error("不支持的消息类型")
            return
        try:
            await handler(frame)
        except services.CommentRefused as refused:
            await self.send_error(refused.message)

    def _flooding(self) -> bool:
        now = time.monotonic()
        self.frame_times = [t for t in self.frame_times if now - t < FLOOD_SECONDS] + [now]
        return len(self.frame_times) > FLOOD_FRAMES

    async def _comment(self, frame):
        comment = await in_tenant(self.scope)(services.post_comment)(self.page, self.user, frame.get("body"))
        await self._broadcast({"type": "comment", "comment": services.comment_frame(comment)})

    async def _ping(self, frame):
        count = await viewers.seen(self.scope["tenant"].schema_name, self.page.pk, self.channel_name)
        await self.send_json({"type": "viewers", "count": count})

    async def _hide(self, frame):
        comment = await in_tenant(self.scope)(services.hide_comment)(self.page, self.user, frame.get("id"))
        await self._broadcast({"type": "hidden", "id": comment.pk})

    async def _pin(self, frame):
        comment = await in_tenant(self.scope)(services.pin_comment)(self.page, self.user, frame.get("id"))
        pinned = services.comment_frame(comment) if comment else None
        await self._broadcast({"type": "pinned", "comment": pinned})

    async def _mute(self, frame):
        mute = await in_tenant(self.scope)(services.mute_person)(
            self.page, self.user, frame.get("id"), frame.get("minutes")
        )
        await self.send_json({"type": "muted", "id": frame.get("id"), "until": mute.until.isoformat()})

    async def _broadcast(self, frame: dict):
        # Serialised once here; each viewer's consumer sends the text as it is.
        await self.channel_layer.group_send(self.group, group_event("live.event", frame))

    async def _announce_viewers(self, count: int):
        # Coalesced (live.viewers.announce): at most one count a second per stream, the last
        # one exact. The announcement may go out after this consumer is gone: it only needs
        # the layer and the group name.
        layer, group = self.channel_layer, self.group

        async def send(current: int):
            await layer.group_send(group, group_event("live.event", {"type": "viewers", "count": current}))

        await viewers.announce(self.scope["tenant"].schema_name, self.page.pk, count, send)

    async def live_event(self, event):
        await self.send_event_text(event)

    async def send_json(self, content):
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def send_error(self, message: str):
        await self.send_json({"type": "error", "message": message})
