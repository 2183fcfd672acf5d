"""Files of pulled content: fetched once per sha256, outside transactions, checked before storing.

HTTP peers are a real server in a thread answering as each test scripts it; the loopback peer
reads the national tenant's own media folder.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django_tenants.utils import schema_context
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from federation import media
from federation.models import MediaAsset, Peer

pytestmark = pytest.mark.django_db


def png_bytes(color=(200, 30, 30), size=(8, 8)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


class FileNode:
    """A stand-in peer serving files: GET answers from a script of (status, body, delay)."""

    def __init__(self):
        self.script: list[tuple[int, bytes, float, dict]] = []
        self.requests: list[str] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                node.requests.append(self.path)
                status, body, delay, headers = node.script.pop(0) if node.script else (404, b"", 0, {})
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status, body=b"", delay=0.0, headers=None):
        self.script.append((status, body, delay, headers or {}))


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def node(zhejiang, media_root, settings):
    # The stub node listens on 127.0.0.1: an operator's explicit choice for a deployment.
    settings.FEDERATION_ALLOW_PRIVATE_ADDRESSES = True
    stub = FileNode()
    yield stub
    stub.server.shutdown()


@pytest.fixture
def http_peer(node):
    peer = Peer(name="外部国家平台", base_url=node.url, key_id="k", is_uplink=False)
    peer.secret = "s"
    peer.save()
    return peer


def asset_for(data: bytes, node_url: str, *, mime="image/png", name="cover.png", role="cover_image", **extra) -> dict:
    return {
        "role": role,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "mime": mime,
        "filename": name,
        "path": f"original_images/{name}",
        "url": f"{node_url}/media/national/original_images/{name}",
        "title": "封面",
    } | extra


def counts():
    return MediaAsset.objects.count(), get_image_model().objects.count(), get_document_model().objects.count()


def test_image_is_fetched_once_and_reused_by_hash(node, http_peer):
    data = png_bytes()
    node.answer(200, data)
    asset = asset_for(data, node.url)

    first = media.fetch_asset(asset, peer=http_peer)
    assert first.image is not None and first.image.width == 8
    assert first.sha256 == asset["sha256"] and first.mime == "image/png" and first.size == len(data)
    assert len(node.requests) == 1

    again = media.fetch_asset(asset, peer=http_peer)
    assert again.pk == first.pk and again.image_id == first.image_id
    assert len(node.requests) == 1  # same hash: nothing downloaded


def test_changed_file_is_a_new_asset(node, http_peer):
    old, new = png_bytes((10, 10, 10)), png_bytes((250, 250, 250))
    node.answer(200, old)
    node.answer(200, new)
    first = media.fetch_asset(asset_for(old, node.url), peer=http_peer)
    second = media.fetch_asset(asset_for(new, node.url, name="cover-v2.png"), peer=http_peer)
    assert first.pk != second.pk and first.image_id != second.image_id
    assert len(node.requests) == 2


def test_document_is_stored_as_a_document(node, http_peer):
    data = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    node.answer(200, data)
    got = media.fetch_asset(
        asset_for(data, node.url, mime="application/pdf", name="guide.pdf", role="document"), peer=http_peer
    )
    assert got.document is not None and got.image is None
    assert got.document.file.name.endswith(".pdf")


@pytest.mark.parametrize(
    ("answer", "message"),
    [((404, b"", 0.0), "HTTP 404"), ((200, b"x", 2.0), "下载超时")],
    ids=["404", "timeout"],
)
def test_unreachable_file_raises_and_saves_nothing(node, http_peer, monkeypatch, answer, message):
    monkeypatch.setattr(media, "READ_TIMEOUT", 0.5)
    node.answer(*answer)
    before = counts()
    with pytest.raises(media.MediaError, match=message) as caught:
        media.fetch_asset(asset_for(png_bytes(), node.url), peer=http_peer)
    assert caught.value.retryable  # the next sync tries again
    assert "assets.url" in str(caught.value)
    assert counts() == before


def test_oversized_download_is_aborted(node, http_peer, settings):
    settings.FEDERATION_MEDIA_MAX_BYTES = 100
    data = png_bytes(size=(64, 64)) + b"\x00" * 500
    node.answer(200, data)
    before = counts()
    # The envelope claims a small file; the bytes tell otherwise: the stream is cut at the limit.
    with pytest.raises(media.MediaError, match="assets.size"):
        media.fetch_asset(asset_for(data, node.url, size=50), peer=http_peer)
    assert counts() == before


def test_declared_oversize_is_refused_without_download(node, http_peer, settings):
    settings.FEDERATION_MEDIA_MAX_BYTES = 100
    with pytest.raises(media.MediaError, match="assets.size"):
        media.fetch_asset(asset_for(b"y" * 500, node.url), peer=http_peer)
    assert node.requests == []


def test_program_declared_as_png_is_refused(node, http_peer):
    node.answer(200, EXE)
    before = counts()
    with pytest.raises(media.MediaError, match="可执行程序"):
        media.fetch_asset(asset_for(EXE, node.url), peer=http_peer)
    assert counts() == before


def test_content_must_match_declared_mime(node, http_peer):
    data = png_bytes()
    node.answer(200, data)
    before = counts()
    with pytest.raises(media.MediaError, match="assets.mime"):
        media.fetch_asset(asset_for(data, node.url, mime="image/jpeg", name="cover.jpg"), peer=http_peer)
    assert counts() == before


def test_hash_mismatch_is_refused(node, http_peer):
    node.answer(200, png_bytes((1, 2, 3)))
    before = counts()
    declared = asset_for(png_bytes((9, 9, 9)), node.url)
    with pytest.raises(media.MediaError, match="assets.sha256"):
        media.fetch_asset(declared, peer=http_peer)
    assert counts() == before


def test_url_on_another_host_is_refused(node, http_peer):
    asset = asset_for(png_bytes(), node.url, url="http://169.254.169.254/latest/meta-data")
    with pytest.raises(media.MediaError, match="assets.url"):
        media.fetch_asset(asset, peer=http_peer)
    assert node.requests == []


def test_fetch_refuses_to_run_inside_a_transaction(node, http_peer):
    node.answer(200, png_bytes())
    with transaction.atomic(), pytest.raises(RuntimeError, match="outside any transaction"):
        media.fetch_asset(asset_for(png_bytes(), node.url), peer=http_peer)
    assert node.requests == []


def test_download_happens_outside_any_transaction(node, http_peer, monkeypatch):
    seen = []
    real = media._download

    def watching(*args, **kwargs):
        seen.append(media.outside_transaction())
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "_download", watching)
    node.answer(200, png_bytes())
    media.fetch_asset(asset_for(png_bytes(), node.url), peer=http_peer)
    assert seen == [True]


def test_loopback_reads_the_national_tenants_media(zhejiang, media_root):
    from django.core.files.images import ImageFile

    data = png_bytes((0, 128, 0))
    with schema_context("national"):
        image = get_image_model()(title="国家封面", file=ImageFile(io.BytesIO(data), name="national-cover.png"))
        image.save()
        path = image.file.name
    assert (media_root / "national" / path).exists()
    peer = Peer.objects.get(is_uplink=True)
    assert peer.is_loopback
    asset = asset_for(data, "http://national.culture.localhost:8000", path=path, name="national-cover.png")

    got = media.fetch_asset(asset, peer=peer)
    assert got.image.width == 8
    stored = media_root / "zhejiang" / got.image.file.name
    assert stored.read_bytes() == data  # a copy in zhejiang's own folder


def test_loopback_path_may_not_leave_the_media_folder(zhejiang, media_root):
    peer = Peer.objects.get(is_uplink=True)
    asset = asset_for(png_bytes(), "http://x", path="../zhejiang/secret.png")
    with pytest.raises(media.MediaError, match="assets.path"):
        media.fetch_asset(asset, peer=peer)
