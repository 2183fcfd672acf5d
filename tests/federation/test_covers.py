"""Cover images travel up with pushed items: the national site keeps a copy (once per sha256) and the
catalogue shows it; a cover the origin cannot give is tried again later, and nothing half-saved."""

from __future__ import annotations

import io

import pytest
from django.core.files.images import ImageFile
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context
from PIL import Image as PILImage
from wagtail.images import get_image_model

from federation import services
from federation.covers import fetch_missing_covers, records_missing_covers
from federation.models import MediaAsset, Record

from .conftest import new_resource

pytestmark = pytest.mark.django_db

NATIONAL = "national.culture.localhost"


def png(color=(180, 40, 40)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 18), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def pushed_with_cover(title: str, data: bytes, name: str = "yueju-cover.png"):
    """In zhejiang: a resource with a cover image, published and delivered to the national site."""
    image = get_image_model()(title="越剧海报", file=ImageFile(io.BytesIO(data), name=name))
    image.save()
    page = new_resource(title, cover_image=image)
    services.deliver_pending()
    return page


def test_the_cover_of_a_pushed_item_is_kept_nationally_and_shown_in_the_catalogue(client, zhejiang, media_root):
    data = png()
    page = pushed_with_cover("越剧《红楼梦》全本", data)
    with schema_context("national"):
        assert Record.objects.get(uid=page.uid).status == "live"
        assert records_missing_covers().filter(uid=page.uid).exists()
        assert fetch_missing_covers()["fetched"] >= 1
        asset = MediaAsset.objects.get(sha256=Record.objects.get(uid=page.uid).envelope["payload"]["cover_image"])
        stored = media_root / "national" / asset.image.file.name
        assert stored.read_bytes() == data  # a copy in the national site's own folder
        assert not records_missing_covers().filter(uid=page.uid).exists()
        assert fetch_missing_covers()["fetched"] == 0  # nothing to do a second time

    html = client.get("/catalogue/?q=红楼梦", HTTP_HOST=NATIONAL).content.decode()
    card = html[html.index("越剧《") - 600 : html.index("越剧《")]
    assert "<img" in card and "/media/national/" in card
    detail = client.get(f"/catalogue/{page.uid}/", HTTP_HOST=NATIONAL).content.decode()
    assert "<img" in detail and "/media/national/" in detail


def test_the_same_cover_on_two_items_is_fetched_once(zhejiang, media_root):
    data = png((10, 90, 200))
    first = pushed_with_cover("越剧《西厢记》", data, name="a.png")
    second = pushed_with_cover("越剧《追鱼》", data, name="b.png")
    with schema_context("national"):
        sha = Record.objects.get(uid=first.uid).envelope["payload"]["cover_image"]
        assert Record.objects.get(uid=second.uid).envelope["payload"]["cover_image"] == sha
        images_before = get_image_model().objects.count()
        fetch_missing_covers()
        assert MediaAsset.objects.filter(sha256=sha).count() == 1
        assert get_image_model().objects.count() == images_before + 1


def test_a_cover_missing_at_the_origin_is_retried_and_nothing_is_saved(client, zhejiang, media_root):
    page = pushed_with_cover("越剧《五女拜寿》", png((0, 0, 0)))
    with schema_context("zhejiang"):
        (media_root / "zhejiang" / page.cover_image.file.name).unlink()  # lost on the origin's disk
    with schema_context("national"):
        assets_before = MediaAsset.objects.count()
        assert fetch_missing_covers()["failed"] >= 1
        assert MediaAsset.objects.count() == assets_before
        assert records_missing_covers().filter(uid=page.uid).exists()  # tried again next run
    response = client.get(f"/catalogue/{page.uid}/", HTTP_HOST=NATIONAL)
    assert response.status_code == 200 and "<img" not in response.content.decode()


def test_received_items_queue_a_cover_fetch_on_the_national_site(
    zhejiang, media_root, django_capture_on_commit_callbacks
):
    DBTaskResult.objects.filter(task_path="federation.tasks.fetch_catalogue_covers_task").delete()
    with schema_context("zhejiang"):
        origin_assets = MediaAsset.objects.count()  # the demo's pulled national courses have files
    with django_capture_on_commit_callbacks(execute=True):
        pushed_with_cover("越剧《碧玉簪》", png((120, 120, 0)))
    queued = DBTaskResult.objects.filter(task_path="federation.tasks.fetch_catalogue_covers_task")
    assert queued.count() == 1
    from tests.core.test_tasks import run

    # Run as the worker does (from the public schema): it finds the national site's record.
    assert run(queued.get().id).return_value["fetched"] >= 1
    with schema_context("zhejiang"):
        assert MediaAsset.objects.count() == origin_assets  # nothing written in the origin's schema
