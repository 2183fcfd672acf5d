"""Demo live streams: one live now (with comments), one ended with its replay, and the demo HLS.

The stream is a real HLS file set (fragmented MP4, H.264 + AAC, 2-second segments) that
ffmpeg — the binary shipped inside the imageio-ffmpeg wheel, no system install — draws from
its own test patterns the first time the demo is provisioned. It is cached in var/demo/ and
copied into each tenant's media, so a second provisioning does nothing.
Idempotent: pages that exist (by slug) are left as editors left them.
"""

from __future__ import annotations

import datetime
import logging
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

DEMO_STREAM_DIR = "live/demo"
_CACHE = Path(settings.BASE_DIR) / "var" / "demo" / "live-hls"
_SECONDS = 16

_LIVE_NOW = {
    "zhejiang": ("戏曲进校园·越剧名家直播课", "越剧名家走进杭州中小学课堂，讲解越剧唱腔与身段，现场连线提问。"),
    "national": ("云上群星奖·全国优秀群众文艺作品展演", "第十九届群星奖优秀作品线上展演，全国观众同步观看。"),
}
_REPLAY = {
    "zhejiang": ("“浙江非遗传承人进社区”直播回放", "龙泉青瓷烧制技艺传承人现场演示拉坯与施釉。"),
    "national": ("文津图书奖颁奖典礼直播回放", "国家图书馆文津图书奖颁奖典礼全程回放。"),
    "sichuan": ("川剧变脸艺术讲座直播回放", "川剧表演艺术家讲解变脸绝技与川剧五腔。"),
}
_COMMENTS = ["直播画面很清晰！", "老师讲得太好了，孩子很喜欢", "请问回放什么时候上线？", "为传统文化点赞"]


def _ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None


def _generate_stream(target: Path) -> bool:
    ffmpeg = _ffmpeg()
    if ffmpeg is None:
        return False
    target.mkdir(parents=True, exist_ok=True)
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=523:sample_rate=44100:duration={_SECONDS}",
        "-c:v", "libx264", "-profile:v", "baseline", "-level", "3.0", "-pix_fmt", "yuv420p", "-g", "50",
        "-c:a", "aac", "-b:a", "64k", "-shortest",
        "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
        "-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", str(target / "seg%03d.m4s"),
        str(target / "index.m3u8"),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("demo live stream not generated: %s", error)
        shutil.rmtree(target, ignore_errors=True)
        return False
    return True


def ensure_demo_stream() -> str:
    """The demo HLS playlist in the current tenant's media, as a site path ('' without ffmpeg)."""
    playlist = f"{DEMO_STREAM_DIR}/index.m3u8"
    if not default_storage.exists(playlist):
        if not (_CACHE / "index.m3u8").exists() and not _generate_stream(_CACHE):
            return ""
        for file in sorted(_CACHE.iterdir()):
            name = f"{DEMO_STREAM_DIR}/{file.name}"
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(file.read_bytes()))
    return f"{settings.MEDIA_URL}{connection.schema_name}/{playlist}"


def seed_live_demo(slug: str) -> None:
    """Inside the tenant's schema: the live-now and replay pages of this tenant, with comments."""
    from cms_pages.models import HomePage, LiveStreamPage

    if slug not in _LIVE_NOW and slug not in _REPLAY:
        return
    home = HomePage.objects.get(locale__language_code="zh-hans")
    stream = ensure_demo_stream()
    now = timezone.localtime().replace(second=0, microsecond=0)
    if slug in _LIVE_NOW and not LiveStreamPage.objects.filter(slug="live-now").exists():
        title, intro = _LIVE_NOW[slug]
        page = LiveStreamPage(
            title=title,
            slug="live-now",
            intro=intro,
            summary=intro,
            start=now - datetime.timedelta(minutes=30),
            end=now + datetime.timedelta(hours=2),
            # Switched on by staff: the demo stays live whenever someone looks at it.
            broadcast="live",
            stream_url=stream,
        )
        home.add_child(instance=page)
        page.save_revision().publish()
        _seed_comments(page)
    if slug in _REPLAY and not LiveStreamPage.objects.filter(slug="live-replay").exists():
        title, intro = _REPLAY[slug]
        start = (now - datetime.timedelta(days=7)).replace(hour=19, minute=30)
        page = LiveStreamPage(
            title=title,
            slug="live-replay",
            intro=intro,
            summary=intro,
            start=start,
            end=start + datetime.timedelta(hours=2),
            replay_url=stream,
        )
        home.add_child(instance=page)
        page.save_revision().publish()


def _seed_comments(page) -> None:
    from django.contrib.auth import get_user_model

    from live.models import LiveComment
    from live.services import display_name

    authors = list(get_user_model().objects.filter(username__startswith=f"{connection.schema_name}_").order_by("pk"))
    for number, body in enumerate(_COMMENTS):
        if authors:
            author = authors[number % len(authors)]
            LiveComment.objects.create(page=page, author=author, author_name=display_name(author), body=body)
