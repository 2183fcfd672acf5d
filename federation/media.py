"""Files that come with pulled content: fetched once per sha256, checked, then stored (ARCHITECTURE §5).

`fetch_asset(asset, peer=...)` turns one entry of an envelope's `assets`
(`{role, sha256, size, mime, filename, path, url}`) into a local Wagtail image or document:

* **Dedupe.** A `MediaAsset` with that sha256 whose image/document still exists is reused:
  nothing is downloaded.
* **Outside any transaction.** The download runs with no transaction open (a slow peer must not
  hold row locks or a connection in a transaction); `fetch_asset` refuses to run inside one (test
  transactions of `TestCase` excepted, exactly as Django's `atomic(durable=True)` does). Only the
  final save of the Image/Document and its `MediaAsset` is a short transaction.
* **Streamed and limited.** The bytes go to a temporary file in chunks; more than
  `FEDERATION_MEDIA_MAX_BYTES` (default 50 MB) aborts the download. Nothing is kept on failure.
* **Checked by content.** The type is sniffed from the bytes (`filetype`, and for documents the
  upload checks of `cms_pages.uploads`, where an .exe renamed .mp4 is refused); it must be one of
  `FEDERATION_MEDIA_MIME_TYPES` and agree with the declared `mime`. The sha256 of what arrived must
  equal the declared one.
* **Where from.** A loopback peer (the national site of this deployment) is read straight from the
  national tenant's media storage; an HTTP peer with a streaming GET of `asset["url"]`, which must
  be on the peer's own registered host (never an address the envelope names), with connect/read
  timeouts, and never on a loopback/private/link-local address unless
  `FEDERATION_ALLOW_PRIVATE_ADDRESSES` is on for the deployment.

Every failure raises `MediaError` with a message naming the field; nothing is saved, and the next
sync tries again (fetching is idempotent: the sha256 is the key).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from urllib.parse import urlsplit

import filetype
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django_tenants.utils import schema_context

from .models import MediaAsset
from .untrusted import UntrustedInputError, check_public_host

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
DOCUMENT_TYPES = (
    "application/pdf",
    "application/epub+zip",
    "application/zip",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "text/plain",
    "text/vtt",
)
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg", "audio/m4a": "audio/mp4"}


class MediaError(Exception):
    """A file that could not be fetched or was refused; `retryable` says whether a later sync may help."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


def max_bytes() -> int:
    return int(getattr(settings, "FEDERATION_MEDIA_MAX_BYTES", DEFAULT_MAX_BYTES))


def allowed_types() -> tuple[str, ...]:
    return tuple(getattr(settings, "FEDERATION_MEDIA_MIME_TYPES", IMAGE_TYPES + DOCUMENT_TYPES))


def _normal(mime: str) -> str:
    mime = (mime or "").split(";")[0].strip().lower()
    return _ALIASES.get(mime, mime)


def outside_transaction() -> bool:
    """No transaction is open on the connection (a test case's own wrapping transaction aside,
    the same exception Django makes for `atomic(durable=True)`)."""
    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def is_image(asset: dict) -> bool:
    return asset.get("role") != "document" and _normal(asset.get("mime", "")).startswith("image/")


def fetch_asset(asset: dict | None, *, peer) -> MediaAsset | None:
    """The local copy of `asset` (an envelope's asset entry), fetched from `peer` if not here yet.

    Returns None when there is no asset to fetch; raises MediaError when it cannot be fetched or
    is refused (nothing saved). Must be called outside any transaction.
    """
    if not asset:
        return None
    sha = str(asset.get("sha256") or "").lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise MediaError("assets.sha256: 64 hex digits required", retryable=False)
    existing = MediaAsset.objects.filter(sha256=sha).select_related("image", "document").first()
    if existing and (existing.image_id or existing.document_id):
        return existing
    if not outside_transaction():
        raise RuntimeError("fetch_asset downloads a file: call it outside any transaction")
    mime = _normal(asset.get("mime", ""))
    if mime not in allowed_types():
        raise MediaError(f"assets.mime: {mime or '（空）'} 不在允许的文件类型内", retryable=False)
    limit = max_bytes()
    declared_size = asset.get("size")
    if isinstance(declared_size, int) and declared_size > limit:
        raise MediaError(f"assets.size: {declared_size} 字节，超过上限 {limit} 字节", retryable=False)
    with tempfile.NamedTemporaryFile(prefix="federation-", suffix=".part") as tmp:
        digest, size = _download(asset, peer, tmp, limit)
        if digest != sha:
            raise MediaError(f"assets.sha256: 收到的文件校验值 {digest[:12]}… 与声明的 {sha[:12]}… 不符")
        tmp.flush()
        tmp.seek(0)
        _check_content(tmp, asset, mime)
        tmp.seek(0)
        return _store(tmp, asset, sha, size, mime)


def _download(asset: dict, peer, out, limit: int) -> tuple[str, int]:
    """Copy the asset's bytes into `out`, hashing as it goes; aborts past `limit` bytes."""
    digest = hashlib.sha256()
    size = 0

    def take(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)
        if size > limit:
            raise MediaError(f"assets.size: 文件超过上限 {limit} 字节，已中止下载", retryable=False)
        digest.update(chunk)
        out.write(chunk)

    if peer.is_loopback:
        for chunk in _read_loopback(asset, peer):
            take(chunk)
    else:
        for chunk in _read_http(asset, peer):
            take(chunk)
    return digest.hexdigest(), size


def _read_loopback(asset: dict, peer):
    """A file of a site of this deployment, read from its media folder (no HTTP inside one deployment):
    the national site's for pulled content, or the origin's (`peer.schema`, see covers.py)."""
    from .transport import TransportError, national_schema

    path = str(asset.get("path") or "")
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise MediaError("assets.path: 缺少或不是相对路径", retryable=False)
    try:
        with schema_context(getattr(peer, "schema", None) or national_schema()):
            handle = default_storage.open(path, "rb")
    except TransportError as exc:
        raise MediaError(f"assets.path: {exc}") from None
    except (FileNotFoundError, SuspiciousFileOperation, OSError):
        raise MediaError(f"assets.path: 来源站点没有这个文件（{path}）") from None
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _read_http(asset: dict, peer):
    url = str(asset.get("url") or "")
    target, home = urlsplit(url), urlsplit(peer.base_url)
    if target.scheme not in ("http", "https") or not home.netloc or target.netloc != home.netloc:
        raise MediaError("assets.url: 必须是来源节点自己的 http(s) 地址", retryable=False)
    try:
        check_public_host(url, "assets.url")
    except UntrustedInputError as exc:
        raise MediaError(f"{exc}（内网或本机地址，本部署未允许）", retryable=False) from None
    try:
        with requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False) as answer:
            if answer.status_code != 200:
                raise MediaError(f"assets.url: HTTP {answer.status_code}（{url}）")
            yield from answer.iter_content(CHUNK)
    except requests.Timeout:
        raise MediaError(f"assets.url: 下载超时（{url}）") from None
    except requests.RequestException as exc:
        raise MediaError(f"assets.url: 下载失败（{exc.__class__.__name__}）") from None


def _check_content(f, asset: dict, mime: str) -> None:
    """The bytes must be what the asset says it is (and never a program)."""
    from cms_pages.uploads import SNIFF_BYTES, check_document_content, is_executable

    head = f.read(SNIFF_BYTES)
    f.seek(0)
    if is_executable(head):
        raise MediaError("assets.mime: 文件内容是可执行程序，已拒绝", retryable=False)
    guessed = filetype.guess(head)
    sniffed = _normal(guessed.mime) if guessed else ""
    if is_image(asset):
        if sniffed != mime:
            raise MediaError(f"assets.mime: 声明为 {mime}，内容却是 {sniffed or '未知格式'}", retryable=False)
        return
    if sniffed.startswith("image/") or (sniffed and sniffed not in allowed_types()):
        raise MediaError(f"assets.mime: 声明为 {mime}，内容却是 {sniffed}", retryable=False)
    named = File(f, name=os.path.basename(str(asset.get("filename") or asset.get("path") or "file")))
    try:
        check_document_content(named)
    except ValidationError as exc:
        raise MediaError(f"assets.mime: {' '.join(exc.messages)}", retryable=False) from None
    finally:
        f.seek(0)


def _store(f, asset: dict, sha: str, size: int, mime: str) -> MediaAsset:
    """The Image or Document and its MediaAsset, in one short transaction (concurrent fetches of
    the same file end with one row: the loser reuses the winner's)."""
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    filename = os.path.basename(str(asset.get("filename") or asset.get("path") or sha[:16]))[:100]
    title = str(asset.get("title") or filename)[:255]
    with transaction.atomic(durable=True):
        existing = MediaAsset.objects.select_for_update().filter(sha256=sha).first()
        if existing and (existing.image_id or existing.document_id):
            return existing
        if is_image(asset):
            image = get_image_model()(title=title, file=File(f, name=filename))
            image._set_image_file_metadata()
            image.save()
            target = {"image": image, "document": None}
        else:
            document = get_document_model()(title=title, file=File(f, name=filename))
            document._set_document_file_metadata()
            document.save()
            target = {"image": None, "document": document}
        fields = {"size": size, "mime": mime, "source_url": str(asset.get("url") or "")[:500], **target}
        if existing:
            MediaAsset.objects.filter(pk=existing.pk).update(**fields)
            existing.refresh_from_db()
            return existing
        return MediaAsset.objects.create(sha256=sha, **fields)
