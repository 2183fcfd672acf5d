"""Documents in a private collection are never readable through /media/…: documents are only
served by Wagtail's document view, which checks the privacy of their collection."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django_tenants.utils import schema_context
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, CollectionViewRestriction

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
PDF = b"%PDF-1.4\n% private minutes\n%%EOF\n"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _document(collection, name: str):
    document = get_document_model()(title=name, collection=collection)
    document.file.save(name, ContentFile(PDF), save=False)
    document.save()
    return document


@pytest.fixture
def documents(media_root):
    with schema_context("zhejiang"):
        root = Collection.get_first_root_node()
        private = root.add_child(name="内部资料")
        CollectionViewRestriction.objects.create(collection=private, restriction_type="login")
        return {"private": _document(private, "neibu.pdf"), "public": _document(root, "gongkai.pdf")}


def test_a_private_collections_document_is_not_served_from_the_media_path(client, documents):
    private = documents["private"]
    with schema_context("zhejiang"):
        media_url = private.file.url  # /media/zhejiang/documents/neibu.pdf
    assert media_url.startswith("/media/zhejiang/documents/")
    response = client.get(media_url, HTTP_HOST=ZJ)
    assert response.status_code == 404
    assert PDF not in b"".join(getattr(response, "streaming_content", [response.content]))
    # Nor by a path that only resolves there.
    assert client.get(media_url.replace("/documents/", "/./documents/"), HTTP_HOST=ZJ).status_code == 404

    # Wagtail's document view asks for a sign-in.
    response = client.get(private.url, HTTP_HOST=ZJ)
    assert response.status_code == 302 and "login" in response["Location"]


def test_public_documents_are_served_by_the_document_view_only(client, documents):
    public = documents["public"]
    with schema_context("zhejiang"):
        media_url = public.file.url
    assert client.get(media_url, HTTP_HOST=ZJ).status_code == 404
    response = client.get(public.url, HTTP_HOST=ZJ)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_images_are_still_served_from_the_media_path(client, media_root):
    from tests.federation.test_media import png_bytes

    with schema_context("zhejiang"):
        image = get_image_model()(title="封面", file=ContentFile(png_bytes(), name="cover.png"))
        image._set_image_file_metadata()
        image.save()
        media_url = image.file.url
    assert media_url.startswith("/media/zhejiang/original_images/")
    response = client.get(media_url, HTTP_HOST=ZJ)
    assert response.status_code == 200


def test_another_tenant_cannot_read_the_document(client, documents):
    assert client.get(documents["public"].url, HTTP_HOST="sichuan.culture.localhost").status_code == 404
