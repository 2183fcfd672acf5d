"""Document uploads that are checked before anything is stored.

Wagtail checks a document's extension (WAGTAILDOCS_EXTENSIONS) and its size
(WAGTAILDOCS_MAX_UPLOAD_SIZE, read by wagtail.documents.fields.WagtailDocumentField),
but not that the bytes match the extension: an .exe renamed .mp4 is stored and
served as a "video". `SafeDocumentForm` is installed with

    WAGTAILDOCS_DOCUMENT_FORM_BASE = "cms_pages.uploads.SafeDocumentForm"

and is used by every document form Wagtail builds (add, edit, multiple upload,
chooser upload). It

* gives the size limit a Chinese message ("文件过大：最大 50 MB。"), also used by
  the multiple uploader's in-browser check;
* sniffs the content (the `filetype` package plus zip / text checks) and refuses
  executables under any name and files whose content contradicts the extension;
* raises only validation errors, so a refused upload never reaches `save()`:
  no Document row, nothing written under MEDIA_ROOT.

Only the uploaded stream is read (the head, the zip directory, or the text in
chunks); it is rewound afterwards for Wagtail's own hashing and saving.
"""

from __future__ import annotations

import codecs
import os
import zipfile
from collections.abc import Callable

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from wagtail.documents.forms import BaseDocumentForm

SNIFF_BYTES = 8192  # what filetype looks at
TEXT_CHUNK = 64 * 1024

MISMATCH = "文件内容与扩展名不符：看起来不是{label}。"
EXECUTABLE = "文件内容与扩展名不符：这是可执行程序，不允许上传。"
TEXT_HINT = "请以 UTF-8 或 GB18030 编码保存为纯文本后再上传。"
TOO_LARGE = "文件过大：最大 {limit}。"
TOO_LARGE_SIZED = "文件过大：最大 {limit}（此文件 %(file_size)s）。"


def human_size(size: int) -> str:
    """50 MB, 1.5 MB, 500 KB, 800 B: the way the limit is written in messages."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} B"


def max_upload_size() -> int | None:
    return getattr(settings, "WAGTAILDOCS_MAX_UPLOAD_SIZE", None)


# --- content checks -----------------------------------------------------------------------
# Each takes the open upload (positioned at 0) and its first SNIFF_BYTES bytes and says
# whether the content is the format the extension promises.


def _is_isobmff(f, head: bytes) -> bool:
    """MP4 / M4A: an ISO base media file starting with an `ftyp` box, not an image (HEIC/AVIF)."""
    if head[4:8] != b"ftyp":
        return False
    kind = filetype.guess(head)
    return kind is None or kind.extension in {"mp4", "m4v", "m4a", "mov", "3gp"}


def _is_mp3(f, head: bytes) -> bool:
    kind = filetype.guess(head)
    if kind is not None and kind.extension == "mp3":
        return True
    # An MPEG audio frame without ID3 tag: 11 sync bits, a valid version and a layer (not AAC's 00).
    return (
        len(head) > 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0 and head[1] & 0x18 != 0x08
    )


def _is_webm(f, head: bytes) -> bool:
    return head.startswith(b"\x1a\x45\xdf\xa3")  # EBML header (WebM is a Matroska profile)


def _is_ogg(f, head: bytes) -> bool:
    return head.startswith(b"OggS")


def _is_pdf(f, head: bytes) -> bool:
    kind = filetype.guess(head)
    return kind is not None and kind.extension == "pdf"


def _zip_names(f) -> list[str] | None:
    if not head_is_zip(f):
        return None
    try:
        with zipfile.ZipFile(f) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        f.seek(0)


def head_is_zip(f) -> bool:
    f.seek(0)
    magic = f.read(4)
    f.seek(0)
    return magic in (b"PK\x03\x04", b"PK\x05\x06")


def _zip_member(f, name: str, limit: int = 200) -> bytes | None:
    try:
        with zipfile.ZipFile(f) as archive, archive.open(name) as member:
            return member.read(limit)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return None
    finally:
        f.seek(0)


def _is_zip(f, head: bytes) -> bool:
    return _zip_names(f) is not None


def _ooxml(folder: str) -> Callable[..., bool]:
    def check(f, head: bytes) -> bool:
        names = _zip_names(f)
        return names is not None and "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)

    return check


def _zip_with_mimetype(mimetype: str) -> Callable[..., bool]:
    def check(f, head: bytes) -> bool:
        content = _zip_member(f, "mimetype") if _zip_names(f) is not None else None
        return content is not None and content.strip() == mimetype.encode("ascii")

    return check


def _is_text(f, head: bytes) -> bool:
    """Decodes completely as UTF-8 (with or without BOM) or GB18030, and holds no NUL byte."""
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        f.seek(0)
        try:
            while chunk := f.read(TEXT_CHUNK):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return True
        except UnicodeDecodeError:
            continue
        finally:
            f.seek(0)
    return False


def _text_starting_with(prefix: bytes) -> Callable[..., bool]:
    def check(f, head: bytes) -> bool:
        return head.removeprefix(b"\xef\xbb\xbf").startswith(prefix) and _is_text(f, head)

    return check


# extension -> (what the user is told it should be, check)
CONTENT_RULES: dict[str, tuple[str, Callable[..., bool]]] = {
    "pdf": ("PDF 文档", _is_pdf),
    "mp4": ("MP4 视频", _is_isobmff),
    "m4a": ("M4A 音频", _is_isobmff),
    "mp3": ("MP3 音频", _is_mp3),
    "webm": ("WebM 视频", _is_webm),
    "ogg": ("Ogg 音频", _is_ogg),
    "vtt": ("WebVTT 字幕文件", _text_starting_with(b"WEBVTT")),
    "txt": ("纯文本文件", _is_text),
    "csv": ("CSV 表格文件", _is_text),
    "rtf": ("RTF 文档", _text_starting_with(b"{\\rtf")),
    "zip": ("ZIP 压缩包", _is_zip),
    "docx": ("Word 文档（DOCX）", _ooxml("word/")),
    "xlsx": ("Excel 表格（XLSX）", _ooxml("xl/")),
    "pptx": ("PowerPoint 演示文稿（PPTX）", _ooxml("ppt/")),
    "epub": ("EPUB 电子书", _zip_with_mimetype("application/epub+zip")),
    "odt": ("OpenDocument 文本（ODT）", _zip_with_mimetype("application/vnd.oasis.opendocument.text")),
    "key": ("Keynote 演示文稿", _is_zip),
}
TEXT_EXTENSIONS = {"txt", "csv", "rtf", "vtt"}

MACHO_MAGIC = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")


def is_executable(head: bytes) -> bool:
    """A Windows (MZ/PE), Linux (ELF) or macOS (Mach-O) program, whatever its name."""
    if head.startswith(b"MZ") and b"\x00" in head[:64]:  # a real DOS header is full of zeros
        return True
    kind = filetype.guess(head)
    return (kind is not None and kind.extension == "elf") or head.startswith(MACHO_MAGIC)


def check_document_content(f) -> None:
    """Raise ValidationError when the upload's bytes contradict its extension."""
    extension = os.path.splitext(f.name or "")[1].lower().lstrip(".")
    f.seek(0)
    head = f.read(SNIFF_BYTES)
    f.seek(0)
    if is_executable(head):
        raise ValidationError(EXECUTABLE, code="executable")
    rule = CONTENT_RULES.get(extension)
    if rule is None:
        return  # an extension we know nothing about: WAGTAILDOCS_EXTENSIONS decides
    label, matches = rule
    if not matches(f, head):
        message = MISMATCH.format(label=label)
        if extension in TEXT_EXTENSIONS:
            message += TEXT_HINT
        raise ValidationError(message, code="content_mismatch")


class SafeDocumentForm(BaseDocumentForm):
    """Wagtail's document form, plus a Chinese size message and a content check of the file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("file")
        limit = max_upload_size()
        if field is None or limit is None:
            return
        # WagtailDocumentField checks the size in to_python(); reword its messages (the
        # multiple uploader also shows `file_too_large_unknown_size` in the browser).
        field.max_upload_size = limit
        field.max_upload_size_text = human_size(limit)
        field.error_messages["file_too_large"] = TOO_LARGE_SIZED.format(limit=human_size(limit))
        field.error_messages["file_too_large_unknown_size"] = TOO_LARGE.format(limit=human_size(limit))
        field.help_text = f"最大 {human_size(limit)}。"

    def _post_clean(self):
        # When the file was refused, the instance has no file and Document.clean() adds a
        # confusing second error ('文件扩展“”是不被允许…'); keep only the real reason.
        refused = len(self._errors.get("file", ()))
        super()._post_clean()
        if refused:
            del self._errors["file"][refused:]

    def clean_file(self):
        f = self.cleaned_data.get("file")
        if not isinstance(f, UploadedFile):
            return f  # unchanged file on edit
        limit = max_upload_size()
        if limit is not None and f.size is not None and f.size > limit:
            raise ValidationError(TOO_LARGE.format(limit=human_size(limit)), code="file_too_large")
        allowed = getattr(settings, "WAGTAILDOCS_EXTENSIONS", None)
        extension = os.path.splitext(f.name or "")[1].lower().lstrip(".")
        if allowed and extension not in {e.lower() for e in allowed}:
            return f  # Document.clean() refuses the extension with Django's own message
        check_document_content(f)
        return f
