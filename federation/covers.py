"""Cover images of the national catalogue: fetched from each item's origin after it arrives.

A pushed envelope names its files by sha256 (`assets`); the national site keeps a copy of each
live item's cover image so the catalogue shows it (`media.fetch_asset`: deduplicated by sha256,
streamed outside transactions, size and type checked). Only covers travel up: documents and
videos stay with their origin, which the catalogue links to.

Where the bytes come from:
* an origin site of this deployment (its slug and region code name a tenant here; the signing
  key proved which site it is) is read from that tenant's media folder, no HTTP;
* an origin elsewhere is asked over HTTP at the base URL registered with its key
  (`federation_issue_key --origin-url`), never at an address its envelope declares; the file URL
  must be on that host, and not on a private address unless the deployment allows it.

Fetching runs after a batch is received (a task) and with every `federation_sync` run on the
national site; a cover that could not be fetched is tried again next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import OuterRef, Q, Subquery
from django.db.models.fields.json import KT
from django_tenants.utils import get_tenant_model

from .media import MediaError, fetch_asset
from .models import InboundKey, MediaAsset, Record

logger = logging.getLogger(__name__)

BATCH = 100


@dataclass(frozen=True)
class OriginSource:
    """Where an origin's files are read (what `media.fetch_asset` calls a peer)."""

    base_url: str = ""
    schema: str | None = None

    @property
    def is_loopback(self) -> bool:
        return self.schema is not None


def origin_source(record: Record) -> OriginSource:
    local = (
        get_tenant_model()
        .objects.filter(schema_name=record.origin_slug, region_code=record.origin_code)
        .values_list("schema_name", flat=True)
        .first()
    )
    if local:
        return OriginSource(schema=local)
    # Another deployment: only the base URL registered with the origin's key (never the address
    # its envelope declares); none registered → nothing is fetched.
    registered = (
        InboundKey.objects.filter(origin_code=record.origin_code, revoked=False)
        .exclude(base_url="")
        .order_by("-created_at")
        .values_list("base_url", flat=True)
        .first()
    )
    return OriginSource(base_url=registered or "")


def cover_asset(envelope: dict) -> dict | None:
    sha = (envelope.get("payload") or {}).get("cover_image")
    if not sha:
        return None
    return next((asset for asset in envelope.get("assets") or () if asset.get("sha256") == sha), None)


def records_missing_covers():
    """Live received items whose cover image is not here yet."""
    have = MediaAsset.objects.filter(sha256=OuterRef("cover_sha"), image__isnull=False).values("pk")[:1]
    return (
        Record.objects.filter(is_local=False, status=Record.Status.LIVE)
        .annotate(cover_sha=KT("envelope__payload__cover_image"))
        .filter(~Q(cover_sha=None), ~Q(cover_sha=""))
        .annotate(have=Subquery(have))
        .filter(have=None)
        .order_by("seq")
    )


def fetch_missing_covers(*, limit: int = BATCH) -> dict:
    """Fetch the covers of up to `limit` items that lack one; returns {"fetched", "failed"}.

    Talks to other sites: call it outside transactions (the task and the sync command do).
    """
    counts = {"fetched": 0, "failed": 0}
    seen: set[str] = set()
    sources: dict[tuple[str, str], OriginSource] = {}  # one lookup per origin, not per item
    for record in records_missing_covers()[:limit]:
        asset = cover_asset(record.envelope)
        if asset is None or asset["sha256"] in seen:
            continue
        seen.add(asset["sha256"])
        origin = (record.origin_slug, record.origin_code)
        if origin not in sources:
            sources[origin] = origin_source(record)
        try:
            fetch_asset(asset, peer=sources[origin])
        except MediaError as exc:
            counts["failed"] += 1
            logger.warning("cover of %s not fetched: %s", record.catalogue_id, exc)
        else:
            counts["fetched"] += 1
    return counts


def covers_by_sha(shas) -> dict[str, object]:
    """The local cover Image of each sha256 that has one (one query, plus one for renditions)."""
    shas = {sha for sha in shas if sha}
    if not shas:
        return {}
    assets = (
        MediaAsset.objects.filter(sha256__in=shas, image__isnull=False)
        .select_related("image")
        .prefetch_related("image__renditions")
    )
    return {asset.sha256: asset.image for asset in assets}
