"""The wire format: versioned JSON envelopes built from pages (ARCHITECTURE §5).

    {format, uid, catalogue_id, origin{code,slug,name,base_url}, kind, version, updated_at,
     status, canonical_url, attribution, payload{...}, assets[{role, sha256, size, mime, ...}]}

References inside the payload are portable: images are named by the sha256 of their file (an
entry of `assets`), links to pages of the origin become absolute links; blocks that only make
sense on the origin site (its lists of upcoming activities and resources) are left out.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_tenant_model

FORMAT = "culture-cloud/1"
STATUSES = ("live", "unpublished", "deleted")
KIND_OF_MODEL = {"newspage": "news", "activitypage": "activity", "resourcepage": "resource"}
KIND_LABELS = {"news": "新闻", "activity": "活动", "resource": "数字资源", "course": "培训课程"}
PORTABLE_BLOCKS = {"heading", "paragraph", "image", "gallery", "video", "audio", "quote", "call_to_action"}
_PAGE_LINK = re.compile(r'<a\b[^>]*\blinktype="page"[^>]*\bid="(\d+)"[^>]*>')
_EMBED = re.compile(r"<embed\b[^>]*/?>")
_DOC_LINK = re.compile(r'<a\b[^>]*\blinktype="document"[^>]*>')


@dataclass(frozen=True)
class Origin:
    code: str
    slug: str
    name: str
    base_url: str

    def as_dict(self) -> dict:
        return {"code": self.code, "slug": self.slug, "name": self.name, "base_url": self.base_url}


def current_origin() -> Origin:
    """The site whose schema is active: the origin of everything published here."""
    site = get_tenant_model().objects.prefetch_related("domains").get(schema_name=connection.schema_name)
    return Origin(site.region_code, site.schema_name, site.name, site.primary_url().rstrip("/"))


def kind_of(page) -> str | None:
    return KIND_OF_MODEL.get(page._meta.model_name)


def catalogue_id(origin_code: str, kind: str, uid) -> str:
    return f"urn:culture:{origin_code}:{kind}:{uid}"


def content_hash(envelope: dict) -> str:
    """Hash of what the item says (status, payload, assets), not of its version or timestamps."""
    canonical = json.dumps(
        [envelope["status"], envelope["payload"], envelope["assets"]], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def file_sha256(field_file) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    field_file.open("rb")
    try:
        for chunk in field_file.chunks(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    finally:
        field_file.close()
    return digest.hexdigest(), size


class Assets:
    """Collects the files a payload refers to, once each, keyed by sha256 (pages here, and the
    item kinds of other apps, e.g. training.federation_kind)."""

    def __init__(self, origin: Origin):
        self.origin = origin
        self.items: dict[str, dict] = {}

    def add(self, obj, role: str) -> str | None:
        if obj is None or not obj.file:
            return None
        if role == "document" and obj.collection.get_view_restrictions().exists():
            return None  # a document of a private collection never leaves its site
        try:
            sha, size = file_sha256(obj.file)
        except (FileNotFoundError, OSError):
            # A referenced file missing on disk: the item still travels, without this file.
            return None
        name = obj.file.name
        self.items.setdefault(
            sha,
            {
                "role": role,
                "sha256": sha,
                "size": size,
                "mime": mimetypes.guess_type(name)[0] or "application/octet-stream",
                "filename": name.rsplit("/", 1)[-1],
                "path": name,
                # Documents only through Wagtail's document view (it checks collection privacy;
                # /media/.../documents/ is never served), images from the media folder.
                "url": f"{self.origin.base_url}{obj.url if role == 'document' else obj.file.url}",
                "title": obj.title,
            },
        )
        return sha


def _portable_rich_text(html: str, origin: Origin) -> str:
    from wagtail.models import Page

    def page_link(match):
        page = Page.objects.filter(pk=match.group(1)).first()
        url = page.get_full_url() if page else ""
        return f'<a href="{url}">' if url else "<a>"

    html = _PAGE_LINK.sub(page_link, html)
    html = _DOC_LINK.sub("<a>", html)
    return _EMBED.sub("", html)


def _portable_body(page, assets: Assets, origin: Origin) -> list[dict]:
    from wagtail.images import get_image_model

    images = get_image_model().objects

    def image_ref(value):
        image_id = value.get("image") if isinstance(value, dict) else value
        image = images.filter(pk=image_id).first() if image_id else None
        sha = assets.add(image, "image")
        if not sha:
            return None
        alt = value.get("alt_text", "") if isinstance(value, dict) else ""
        decorative = value.get("decorative", False) if isinstance(value, dict) else False
        return {"asset": sha, "alt_text": alt or (image.default_alt_text or ""), "decorative": decorative}

    blocks = []
    for block in page.body.raw_data:
        block_type, value = block["type"], block["value"]
        if block_type not in PORTABLE_BLOCKS:
            continue
        if block_type == "paragraph":
            value = _portable_rich_text(value, origin)
        elif block_type == "image":
            value = image_ref(value)
            if value is None:
                continue
        elif block_type == "gallery":
            items = [image_ref(item["value"] if isinstance(item, dict) and "value" in item else item) for item in value]
            value = [item for item in items if item]
            if not value:
                continue
        elif block_type in ("video", "audio"):
            value = {k: v for k, v in value.items() if k not in ("document", "captions")}
        elif block_type == "call_to_action":
            value = dict(value)
            target = value.pop("page", None)
            if target and not value.get("url"):
                from wagtail.models import Page

                linked = Page.objects.filter(pk=target).first()
                value["url"] = linked.get_full_url() if linked else ""
        blocks.append({"type": block_type, "value": value})
    return blocks


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def page_payload(page, kind: str, assets: Assets, origin: Origin) -> dict:
    payload = {
        "title": page.title,
        "slug": page.slug,
        "summary": page.summary,
        "seo_title": page.seo_title,
        "search_description": page.search_description,
        "language": page.locale.language_code if page.locale_id else "zh-hans",
        "cover_image": assets.add(page.cover_image, "cover_image"),
        "body": _portable_body(page, assets, origin),
    }
    if kind == "news":
        payload |= {"date": _iso(page.date), "source": page.source or origin.name}
    elif kind == "activity":
        venue = page.venue
        payload |= {
            "start": _iso(page.start),
            "end": _iso(page.end),
            "category": page.category,
            "audience": page.audience,
            "organiser": page.organiser,
            "location_note": page.location_note,
            "venue_name": venue.title if venue else "",
            "venue_address": getattr(venue, "address", "") if venue else "",
        }
    elif kind == "resource":
        payload |= {
            "resource_kind": page.kind,
            "category": page.category,
            "stream_url": page.stream_url,
            "duration_seconds": int(page.duration.total_seconds()) if page.duration else None,
            "document": assets.add(page.document, "document"),
            "dc": {name: (_iso(page.date) if name == "date" else getattr(page, name)) for name in page.DUBLIN_CORE},
        }
    return payload


def build_envelope(page, *, status: str, version: int, origin: Origin | None = None) -> dict:
    """The envelope of `page` (specific) at `version` with `status` (live/unpublished/deleted)."""
    origin = origin or current_origin()
    kind = kind_of(page)
    assets = Assets(origin)
    payload = page_payload(page, kind, assets, origin)
    envelope = {
        "format": FORMAT,
        "uid": str(page.uid),
        "catalogue_id": catalogue_id(origin.code, kind, page.uid),
        "origin": origin.as_dict(),
        "kind": kind,
        "version": version,
        "updated_at": timezone.now().isoformat(),
        "status": status,
        "published_at": _iso(page.first_published_at),
        "canonical_url": page.get_full_url() or "",
        "attribution": f"来源：{origin.name}",
        "payload": payload,
        "assets": sorted(assets.items.values(), key=lambda a: a["sha256"]),
    }
    envelope["content_hash"] = content_hash(envelope)
    return envelope


WITHHELD_TITLE = "（非公开内容）"


def build_withheld_envelope(page, *, version: int, status: str = "unpublished", origin: Origin | None = None) -> dict:
    """A withdrawal of `page` that says nothing about it: a page under a view restriction.

    Its title, summary, body, files and address stay on the origin: the national catalogue,
    subscribers and harvesters only learn that the item is no longer public (status unpublished,
    or deleted when the restricted page is deleted).
    """
    origin = origin or current_origin()
    kind = kind_of(page)
    envelope = {
        "format": FORMAT,
        "uid": str(page.uid),
        "catalogue_id": catalogue_id(origin.code, kind, page.uid),
        "origin": origin.as_dict(),
        "kind": kind,
        "version": version,
        "updated_at": timezone.now().isoformat(),
        "status": "unpublished" if status == "live" else status,
        "published_at": None,
        "canonical_url": "",
        "attribution": f"来源：{origin.name}",
        "payload": {"title": WITHHELD_TITLE, "withheld": True},
        "assets": [],
    }
    envelope["content_hash"] = content_hash(envelope)
    return envelope


class EnvelopeError(ValueError):
    """An envelope that does not follow the format (a permanent error: retrying cannot fix it)."""


def validate(envelope, *, bases: list[str] | None = None) -> dict:
    """Check an incoming envelope; returns it (its HTML sanitised), or raises EnvelopeError naming
    the field.

    `bases`: the origin's registered base URLs (scheme, host, port) on the receiving node; the
    envelope's own addresses (canonical_url, origin.base_url, assets[].url) must be on one of them.
    None skips that check (only for envelopes this node built itself)."""
    from . import untrusted

    if not isinstance(envelope, dict):
        raise EnvelopeError("envelope: not an object")
    try:
        untrusted.check_shape(envelope)
    except untrusted.UntrustedInputError as exc:
        raise EnvelopeError(str(exc)) from None
    if envelope.get("format") != FORMAT:
        raise EnvelopeError(f"format: expected {FORMAT}")
    try:
        uuid.UUID(str(envelope.get("uid")))
    except ValueError:
        raise EnvelopeError("uid: not a UUID") from None
    version = envelope.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= untrusted.MAX_VERSION:
        raise EnvelopeError(f"version: must be an integer from 1 to {untrusted.MAX_VERSION}")
    if envelope.get("status") not in STATUSES:
        raise EnvelopeError(f"status: one of {', '.join(STATUSES)}")
    if envelope.get("kind") not in KIND_LABELS:
        raise EnvelopeError("kind: unknown content type")
    origin = envelope.get("origin")
    if not isinstance(origin, dict) or not re.fullmatch(r"\d{6}", str(origin.get("code", ""))):
        raise EnvelopeError("origin.code: six-digit region code required")
    for name in ("slug", "name", "base_url"):
        if not isinstance(origin.get(name, ""), str):
            raise EnvelopeError(f"origin.{name}: must be a string")
    if not isinstance(envelope.get("catalogue_id", ""), str) or len(envelope.get("catalogue_id", "")) > 120:
        raise EnvelopeError("catalogue_id: a string of at most 120 characters")
    payload = envelope.get("payload")
    if not isinstance(payload, dict) or not str(payload.get("title", "")).strip():
        raise EnvelopeError("payload.title: required")
    if not isinstance(envelope.get("assets", []), list):
        raise EnvelopeError("assets: must be a list")
    updated = _when(envelope.get("updated_at"), "updated_at", required=True)
    if updated > timezone.now() + timedelta(days=1):
        raise EnvelopeError("updated_at: must not lie in the future")
    _when(envelope.get("published_at"), "published_at")
    _check_payload_values(payload)
    check_addresses(envelope, bases)
    _sanitise_body(payload)
    envelope.setdefault("assets", [])
    envelope["content_hash"] = content_hash(envelope)
    return envelope


EARLIEST, LATEST = 1900, 2200  # years a date from another node may name


def _when(value, field: str, *, required: bool = False, date_only: bool = False):
    """An ISO 8601 timestamp with a time zone (or a date) within EARLIEST..LATEST, or EnvelopeError."""
    import datetime

    if value in (None, ""):
        if required:
            raise EnvelopeError(f"{field}: required")
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise EnvelopeError(f"{field}: not an ISO 8601 {'date' if date_only else 'timestamp'}")
    try:
        parsed = (datetime.date if date_only else datetime.datetime).fromisoformat(value)
    except ValueError:
        raise EnvelopeError(f"{field}: not an ISO 8601 {'date' if date_only else 'timestamp'}") from None
    if not EARLIEST <= parsed.year <= LATEST:
        raise EnvelopeError(f"{field}: year must be between {EARLIEST} and {LATEST}")
    if not date_only and timezone.is_naive(parsed):
        raise EnvelopeError(f"{field}: must carry a time zone")
    return parsed


MAX_DURATION_SECONDS = 10 * 365 * 24 * 3600


def _check_payload_values(payload: dict) -> None:
    from . import untrusted

    for name in ("start", "end"):
        _when(payload.get(name), f"payload.{name}")
    _when(payload.get("date"), "payload.date", date_only=len(str(payload.get("date") or "")) <= 10)
    dc = payload.get("dc")
    if dc is not None and not isinstance(dc, dict):
        raise EnvelopeError("payload.dc: must be an object")
    if dc and dc.get("date"):
        _when(str(dc["date"])[:10], "payload.dc.date", date_only=True)
    seconds = payload.get("duration_seconds")
    if seconds is not None and (
        not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_DURATION_SECONDS
    ):
        raise EnvelopeError(f"payload.duration_seconds: an integer from 0 to {MAX_DURATION_SECONDS}")
    body = payload.get("body") or []
    if not isinstance(body, list):
        raise EnvelopeError("payload.body: must be a list")
    try:
        untrusted.check_url(payload.get("stream_url"), "payload.stream_url")
        for index, block in enumerate(body):
            value = block.get("value") if isinstance(block, dict) else None
            if isinstance(value, dict):
                for key in ("url", "embed"):
                    untrusted.check_url(value.get(key), f"payload.body[{index}].value.{key}")
    except untrusted.UntrustedInputError as exc:
        raise EnvelopeError(str(exc)) from None


def check_addresses(envelope: dict, bases: list[str] | None) -> None:
    """canonical_url, origin.base_url and every asset URL: http(s), on the registered base."""
    from . import untrusted

    try:
        untrusted.check_url(envelope.get("canonical_url"), "canonical_url", bases)
        untrusted.check_url(envelope["origin"].get("base_url"), "origin.base_url", bases)
        for index, asset in enumerate(envelope.get("assets") or []):
            if not isinstance(asset, dict):
                raise untrusted.UntrustedInputError(f"assets[{index}]: must be an object")
            untrusted.check_url(asset.get("url"), f"assets[{index}].url", bases)
    except untrusted.UntrustedInputError as exc:
        raise EnvelopeError(str(exc)) from None


def _sanitise_body(payload: dict) -> None:
    """Rich text from another node keeps only what Wagtail's editor makes (untrusted.sanitise_html)."""
    from . import untrusted

    for block in payload.get("body") or []:
        if isinstance(block, dict) and block.get("type") == "paragraph" and isinstance(block.get("value"), str):
            block["value"] = untrusted.sanitise_html(block["value"])
