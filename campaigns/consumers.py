"""Live tallies over a websocket: /ws/campaign/<page id>/ (read-only; votes are HTTP POSTs).

On connect the watcher gets the published tally; in live mode every counted vote pushes the
new one ("tally" frames). Votes go through campaigns.views.vote (CSRF-protected HTTP), so a
socket never changes anything: frames from the browser are ignored, and a flood closes it.
"""

from __future__ import annotations

import json
import time

from core.websockets import TenantConsumer, in_tenant, tenant_group

from . import services

FLOOD_FRAMES = 10
FLOOD_SECONDS = 10


class CampaignTallyConsumer(TenantConsumer):
    async def connect(self):
        self.campaign = None
        self.frame_times: list[float] = []
        hello = await in_tenant(self.scope)(self._load)(self.scope["url_route"]["kwargs"]["page_id"])
        if hello is None:
            await self.close(code=4404)
            return
        self.group = tenant_group(self.scope, "campaign", self.campaign.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps(hello, ensure_ascii=False))

    def _load(self, page_id: int):
        from cms_pages.models import CampaignPage

        campaign = CampaignPage.objects.live().public().filter(pk=page_id).first()
        if campaign is None:
            return None
        self.campaign = campaign
        rows, as_of = services.published_tally(campaign)
        return {
            "type": "tally",
            "mode": campaign.tally_mode,
            "as_of": as_of.isoformat() if as_of else None,
            "rows": [row.as_frame() for row in rows],
        }

    async def disconnect(self, code):
        if getattr(self, "campaign", None) is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        now = time.monotonic()
        self.frame_times = [t for t in self.frame_times if now - t < FLOOD_SECONDS] + [now]
        if len(self.frame_times) > FLOOD_FRAMES:
            await self.close(code=4408)
            return
        message = {"type": "error", "message": "投票请使用页面上的投票按钮"}
        await self.send(text_data=json.dumps(message, ensure_ascii=False))

    async def campaign_event(self, event):
        await self.send_event_text(event)
