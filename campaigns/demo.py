"""Demo entries and votes for each tenant's campaign (cms_pages.demo creates the page).

Entry pictures are posters drawn here with Pillow from the tenant's colours (ours to use).
Idempotent: a campaign that has entries is left alone.
"""

from __future__ import annotations

import io
import random

from django.conf import settings
from django.core.files.images import ImageFile

_ENTRIES = {
    "dalian": [
        ("海之韵", "星海广场舞蹈队"),
        ("浪花朵朵", "沙河口区老年大学舞蹈团"),
        ("大连之恋", "甘井子区文化馆广场舞队"),
        ("渔家姑娘", "旅顺口区渔民舞蹈队"),
        ("滨城新韵", "中山区社区文化生活馆"),
        ("百花争艳", "金州区百姓大舞台团队"),
    ],
}
_DEFAULT = [
    ("家乡的小河", "群众文化馆原创组"),
    ("新时代的歌", "社区合唱团"),
    ("乡村振兴曲", "乡镇文化站"),
    ("奋斗者之歌", "青年音乐人"),
    ("书香满城", "图书馆之友合唱团"),
    ("灯火可亲", "文化志愿者乐队"),
]


def _poster(number: int, colour: str) -> ImageFile:
    from PIL import Image, ImageDraw

    rng = random.Random(number)  # noqa: S311 - decoration, not security
    image = Image.new("RGB", (480, 320), colour)
    draw = ImageDraw.Draw(image)
    for _ in range(7):
        x, y, r = rng.randint(0, 480), rng.randint(0, 320), rng.randint(30, 120)
        shade = tuple(min(255, c + rng.randint(30, 90)) for c in image.getpixel((0, 0)))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=shade, width=6)
    draw.rectangle((0, 250, 480, 320), fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return ImageFile(buffer, name=f"campaign-entry-{number}.png")


def seed_campaign_demo(slug: str) -> None:
    """Inside the tenant's schema: entries for the demo campaign and a few votes from demo accounts."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from wagtail.images import get_image_model

    from cms_pages.models import CampaignPage

    from .models import CampaignEntry
    from .services import VoteRefused, cast_vote

    # The Simplified original: a re-run must not pick its zh-Hant copy (same slug, other tree).
    campaign = CampaignPage.objects.filter(slug="campaign", locale__language_code=settings.LANGUAGE_CODE).first()
    if campaign is None or CampaignEntry.objects.filter(campaign=campaign).exists():
        return
    colours = ["#8E2A2A", "#2A5D8E", "#2E7D4F", "#7A4E9E", "#A0672A", "#2A7A7A"]
    Image = get_image_model()
    entries = []
    for number, (title, author) in enumerate(_ENTRIES.get(slug, _DEFAULT), start=1):
        image = Image(title=f"{title}（参赛作品海报）", file=_poster(number, colours[(number - 1) % len(colours)]))
        image.save()
        entries.append(
            CampaignEntry.objects.create(
                campaign=campaign,
                number=number,
                title=title,
                author=author,
                description=f"{author}的参赛作品《{title}》。",
                image=image,
            )
        )
    voters = get_user_model().objects.filter(username__startswith=f"{connection.schema_name}_").order_by("pk")
    for position, voter in enumerate(voters):
        for entry in (entries[position % len(entries)], entries[(position * 2 + 1) % len(entries)]):
            try:
                cast_vote(campaign, entry.pk, voter, address=f"198.51.100.{position + 1}")
            except VoteRefused:
                pass  # the same entry twice: the demo keeps what the rules allow
