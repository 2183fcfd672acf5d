"""Bad uploads in a tenant's Wagtail admin: clear Chinese messages, no row, no file on disk."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
LIMIT = 50 * 1024 * 1024

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 256
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 256
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240  # a DOS/PE header
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 248
VTT = "WEBVTT\n\n00:00.000 --> 00:02.000\n越剧《梁祝》选段\n".encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


EPUB = _zip({"mimetype": b"application/epub+zip", "META-INF/container.xml": b"<container/>"})
DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


@pytest.fixture
def safe_uploads(settings, tmp_path):
    """The settings the platform runs with (see cms_pages/uploads.py), media in a temporary folder."""
    settings.WAGTAILDOCS_DOCUMENT_FORM_BASE = "cms_pages.uploads.SafeDocumentForm"
    settings.WAGTAILDOCS_EXTENSIONS = [
        *["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip", "epub"],
        *["mp4", "m4a", "mp3", "webm", "ogg", "vtt"],
    ]
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = LIMIT
    settings.MEDIA_ROOT = tmp_path
    return settings


@pytest.fixture
def admin_client(client, safe_uploads):
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    return client


def files_under(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


def document_count() -> int:
    from wagtail.documents import get_document_model

    with schema_context("zhejiang"):
        return get_document_model().objects.count()


def image_count() -> int:
    from wagtail.images import get_image_model

    with schema_context("zhejiang"):
        return get_image_model().objects.count()


def root_collection_id() -> int:
    from wagtail.models import Collection

    with schema_context("zhejiang"):
        return Collection.get_first_root_node().pk


def post_document(client, name: str, content: bytes):
    return client.post(
        "/admin/documents/add/",
        {"title": name, "collection": root_collection_id(), "file": SimpleUploadedFile(name, content)},
        HTTP_HOST=ZJ,
    )


def file_errors(response) -> list[str]:
    assert response.status_code == 200, response.status_code  # the form again, not a redirect
    return list(response.context["form"].errors.get("file", []))


def assert_refused(response, message: str, media_root: Path, documents_before: int) -> None:
    errors = file_errors(response)
    assert any(message in error for error in errors), errors
    assert message in response.content.decode()
    assert document_count() == documents_before
    assert files_under(media_root) == []


# --- the settings themselves ------------------------------------------------------------------


def test_the_form_base_is_read_at_every_use(safe_uploads):
    """get_document_form() is not cached: the setting takes effect without a restart or cache clear."""
    from wagtail.documents import get_document_model
    from wagtail.documents.forms import get_document_form

    from cms_pages.uploads import SafeDocumentForm

    form_class = get_document_form(get_document_model())
    assert issubclass(form_class, SafeDocumentForm)
    assert form_class.base_fields["file"].max_upload_size == LIMIT


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("剧目简介.pdf", PDF),
        ("越剧选段.mp4", MP4),
        ("评弹.mp3", MP3),
        ("字幕.vtt", VTT),
        ("非遗名录.csv", "项目,地区\n越剧,嵊州\n".encode("gb18030")),
        ("民间故事.epub", EPUB),
        ("通知.docx", DOCX),
    ],
)
def test_valid_documents_are_saved(admin_client, safe_uploads, name, content):
    before = document_count()
    response = post_document(admin_client, name, content)
    assert response.status_code == 302, file_errors(response)
    assert document_count() == before + 1
    stored = files_under(safe_uploads.MEDIA_ROOT)
    assert len(stored) == 1 and stored[0].read_bytes() == content
    assert stored[0].relative_to(safe_uploads.MEDIA_ROOT).parts[0] == "zhejiang"


# --- refused ----------------------------------------------------------------------------------


def test_exe_renamed_mp4_is_refused(admin_client, safe_uploads):
    before = document_count()
    response = post_document(admin_client, "越剧选段.mp4", EXE)
    assert_refused(response, "文件内容与扩展名不符：这是可执行程序，不允许上传。", safe_uploads.MEDIA_ROOT, before)
    assert len(file_errors(response)) == 1


@pytest.mark.parametrize(("name", "content", "accepted"), [("越剧选段.mp4", MP4, True), ("越剧选段.mp4", EXE, False)])
def test_uploads_spooled_to_disk_are_checked_and_saved_whole(admin_client, safe_uploads, name, content, accepted):
    """Large uploads arrive as temporary files: the check reads and rewinds them like in-memory ones."""
    safe_uploads.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    before = document_count()
    response = post_document(admin_client, name, content)
    assert (response.status_code == 302) is accepted
    assert document_count() == before + accepted
    assert [p.read_bytes() for p in files_under(safe_uploads.MEDIA_ROOT)] == ([content] if accepted else [])


@pytest.mark.parametrize("name", ["讲座.pdf", "说明.txt", "电子书.epub", "音乐.mp3"])
def test_elf_program_is_refused_under_any_name(admin_client, safe_uploads, name):
    before = document_count()
    response = post_document(admin_client, name, ELF)
    assert_refused(response, "文件内容与扩展名不符：这是可执行程序", safe_uploads.MEDIA_ROOT, before)


@pytest.mark.parametrize(
    ("name", "content", "label"),
    [
        ("越剧选段.mp4", b"not a video at all, just text" * 10, "MP4 视频"),
        ("越剧选段.mp4", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100, "MP4 视频"),  # a JPEG
        ("评弹.mp3", PDF, "MP3 音频"),
        ("讲座.pdf", MP4, "PDF 文档"),
        ("民间故事.epub", DOCX, "EPUB 电子书"),
        ("通知.docx", b"PK\x03\x04 broken zip" + b"\x00" * 64, "Word 文档（DOCX）"),
        ("报表.xlsx", DOCX, "Excel 表格（XLSX）"),
        ("资料.zip", PDF, "ZIP 压缩包"),
        ("字幕.vtt", b"1\n00:00:00,000 --> 00:00:02,000\nSRT, not WebVTT\n", "WebVTT 字幕文件"),
    ],
)
def test_content_contradicting_the_extension_is_refused(admin_client, safe_uploads, name, content, label):
    before = document_count()
    response = post_document(admin_client, name, content)
    assert_refused(response, f"文件内容与扩展名不符：看起来不是{label}。", safe_uploads.MEDIA_ROOT, before)


def test_text_file_with_nul_bytes_is_refused(admin_client, safe_uploads):
    before = document_count()
    response = post_document(admin_client, "说明.txt", "越剧".encode("utf-16-le") + b"\x00\x00binary")
    assert_refused(response, "看起来不是纯文本文件。请以 UTF-8 或 GB18030 编码保存", safe_uploads.MEDIA_ROOT, before)


def test_undecodable_csv_is_refused(admin_client, safe_uploads):
    before = document_count()
    response = post_document(admin_client, "名录.csv", b"a,b\n\x80\xff\xfe,\x81\n")
    assert_refused(response, "看起来不是CSV 表格文件", safe_uploads.MEDIA_ROOT, before)


def test_oversized_file_is_refused(admin_client, safe_uploads):
    safe_uploads.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1024
    before = document_count()
    response = post_document(admin_client, "讲座.pdf", PDF + b"%" * 2048)
    assert_refused(response, "文件过大：最大 1 KB", safe_uploads.MEDIA_ROOT, before)
    assert len(file_errors(response)) == 1  # one clear message, not a second one about the extension


def test_disallowed_extension_keeps_wagtails_message(admin_client, safe_uploads):
    before = document_count()
    response = post_document(admin_client, "setup.exe", EXE)
    errors = file_errors(response)
    assert errors and "exe" in errors[0]
    assert document_count() == before
    assert files_under(safe_uploads.MEDIA_ROOT) == []


def test_multiple_uploader_refuses_with_the_same_message(admin_client, safe_uploads):
    from wagtail.models import UploadedFile

    before = document_count()
    response = admin_client.post(
        "/admin/documents/multiple/add/",
        {"collection": root_collection_id(), "files[]": SimpleUploadedFile("越剧选段.mp4", EXE)},
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 200
    data = response.json()
    assert data["success"] is False
    assert "这是可执行程序" in data["error_message"]
    assert document_count() == before
    with schema_context("zhejiang"):
        assert not UploadedFile.objects.exists()
    assert files_under(safe_uploads.MEDIA_ROOT) == []


def test_replacing_a_file_with_a_bad_one_keeps_the_original(admin_client, safe_uploads):
    from wagtail.documents import get_document_model

    assert post_document(admin_client, "讲座.pdf", PDF).status_code == 302
    with schema_context("zhejiang"):
        document = get_document_model().objects.latest("pk")
    original = files_under(safe_uploads.MEDIA_ROOT)
    response = admin_client.post(
        f"/admin/documents/edit/{document.pk}/",
        {"title": "讲座", "collection": root_collection_id(), "file": SimpleUploadedFile("讲座.pdf", EXE)},
        HTTP_HOST=ZJ,
    )
    assert any("这是可执行程序" in error for error in file_errors(response))
    with schema_context("zhejiang"):
        document.refresh_from_db()
    assert document.title == "讲座.pdf" and document.file.name.endswith(".pdf")
    assert files_under(safe_uploads.MEDIA_ROOT) == original and original[0].read_bytes() == PDF


# --- images: Wagtail (Willow) checks the format itself ---------------------------------------


def test_exe_renamed_jpg_is_refused_as_an_image(admin_client, safe_uploads):
    before = image_count()
    response = admin_client.post(
        "/admin/images/add/",
        {"title": "海报", "collection": root_collection_id(), "file": SimpleUploadedFile("海报.jpg", EXE)},
        HTTP_HOST=ZJ,
    )
    assert response.status_code == 200
    errors = response.context["form"].errors.get("file")
    assert errors, "Wagtail must refuse a program named .jpg"
    assert image_count() == before
    assert files_under(safe_uploads.MEDIA_ROOT) == []
