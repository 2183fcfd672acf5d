"""Pull: national content down into a province or city (ARCHITECTURE §5, docs/federation.md "Pull").

A `Subscription` names a set of the national site (国家数字资源 / 国家活动), the parent page the
copies go under, a local-edit policy and whether copies publish themselves or go through 内容审核.

`sync_subscription` pages through the peer's change feed (`GET /federation/feed/`) from the
subscription's cursor. Never lost, never doubled:

* the feed is read and files are fetched outside any transaction (network);
* each item is then applied in its own short transaction that also moves `subscription.cursor`
  to that item's `seq` (under the schema's record lock, re-reading the cursor): a run that
  crashes half-way resumes at the first item it did not finish, and an item applied twice is
  impossible (the cursor is re-checked, and `Record.uid` is unique);
* an item whose version is not newer than the copy's is skipped without a write.

A copy keeps the upstream uid (the catalogue identity), its `Record` has `is_local=False` and
points at the subscription and the page. Pages are never made live directly: a revision is saved
and published (auto_publish) or submitted to the site's workflow (内容审核) with no user (the
system; Wagtail shows no requester). Local edits are noticed by hashing the importable fields
of the page's latest revision against `Record.imported_hash`; the subscription's policy decides.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import time
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from . import envelope as env
from . import item_kinds
from .media import MediaError, fetch_asset
from .models import DeliveryAttempt, MediaAsset, Record, Subscription
from .services import _record_fields, lock_records, next_seq, registered_bases_of_peer
from .transport import TransportError, for_peer, monotonic_ms

logger = logging.getLogger(__name__)

COUNTS = ("created", "updated", "unpublished", "deleted", "skipped", "diverged", "failed")
COMMON_FIELDS = ("title", "summary", "seo_title", "search_description")
ACTIVITY_FIELDS = ("start", "end", "category", "audience", "organiser", "location_note")
RESOURCE_FIELDS = ("kind", "category", "stream_url", "duration")
LOCK_MESSAGE = "订阅策略为“锁定”：此页面由国家平台内容同步维护，本站不可编辑"


def _page_models():
    from cms_pages.models import ActivityIndexPage, ActivityPage, ResourceIndexPage, ResourcePage

    return {"resource": (ResourcePage, ResourceIndexPage), "activity": (ActivityPage, ActivityIndexPage)}


# --- Subscribing -----------------------------------------------------------------------------------


def check_parent_page(set_spec: str, parent_page) -> None:
    """Copies of a set go under the index page of their type; otherwise a message naming the field."""
    label, kind = Subscription.SETS[set_spec]
    if item_kinds.get(kind) is not None:
        # Plain-model items (courses) live in their app's own catalogue, not under a page; the
        # subscription still names a page (the site's home) to keep one shape for every set.
        if parent_page is None:
            raise ValidationError({"parent_page": "放在此栏目下：请选择一个页面（可选首页）"})
        return
    index_model = _page_models()[kind][1]
    if parent_page is None or parent_page.specific_class is not index_model:
        raise ValidationError({"parent_page": f"放在此栏目下：{label}只能放在“{index_model._meta.verbose_name}”栏目下"})


def subscribe(
    *,
    peer,
    set_spec: str,
    parent_page,
    policy: str = Subscription.Policy.UPDATE_UNLESS_MODIFIED,
    auto_publish: bool = False,
    name: str = "",
) -> Subscription:
    """A new subscription of this site to a set of `peer`; ValidationError naming the field otherwise."""
    if peer is None:
        raise ValidationError({"peer": "来源节点：请选择"})
    if set_spec not in Subscription.SETS:
        choices = "、".join(label for label, _ in Subscription.SETS.values())
        raise ValidationError({"set_spec": f"订阅内容：只能是 {choices}"})
    label = Subscription.SETS[set_spec][0]
    check_parent_page(set_spec, parent_page)
    if policy not in Subscription.Policy.values:
        raise ValidationError({"policy": "本地修改策略：无效的选项"})
    with transaction.atomic():
        return Subscription.objects.create(
            name=(name or label)[:100],
            peer=peer,
            set_spec=set_spec,
            parent_page=parent_page,
            policy=policy,
            auto_publish=bool(auto_publish),
        )


# --- Syncing ---------------------------------------------------------------------------------------


def sync_all_subscriptions(*, progress=None) -> dict:
    """Sync every active subscription of the current schema; summed counts plus `subscriptions`."""
    totals = dict.fromkeys(COUNTS, 0) | {"subscriptions": 0}
    for subscription in Subscription.objects.filter(active=True).select_related("peer").order_by("pk"):
        counts = sync_subscription(subscription, progress=progress)
        totals["subscriptions"] += 1
        for name in COUNTS:
            totals[name] += counts[name]
    return totals


def sync_subscription(subscription: Subscription, *, progress=None, page_size: int = 100) -> dict:
    """Bring the copies of `subscription` up to date with its peer's feed. Returns counts.

    Runs in the subscribing site's schema, outside any transaction (it talks to another node and
    fetches files); each item is applied in its own transaction.
    """
    counts = dict.fromkeys(COUNTS, 0)
    if not subscription.active:
        return counts
    _retry_incomplete(subscription, counts)
    transport = for_peer(subscription.peer)
    while True:
        query = urlencode({"set": subscription.set_spec, "after": subscription.cursor, "limit": page_size})
        started = time.monotonic()
        try:
            answer = transport.request("GET", f"/federation/feed/?{query}")
            items, more = _feed_items(answer.data, subscription.cursor)
        except TransportError as exc:
            _pull_failed(subscription, str(exc), exc.status, monotonic_ms(started))
            return counts
        page_counts = dict.fromkeys(COUNTS, 0)
        try:
            for item in items:
                _sync_item(subscription, item, page_counts)
        except Exception as exc:
            _pull_failed(subscription, f"{exc.__class__.__name__}: {exc}", answer.status, monotonic_ms(started))
            raise
        finally:
            for name in COUNTS:
                counts[name] += page_counts[name]
        if items:
            _log_page(subscription, page_counts, answer.status, monotonic_ms(started))
        if progress:
            progress(len(items))
        if not more or not items:
            break
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(last_run_at=now, last_error="")
    subscription.last_run_at, subscription.last_error = now, ""
    return counts


class _BadFeed(TransportError):
    def __init__(self, message: str):
        super().__init__(f"feed answer: {message}", status=200, retryable=True)


def _feed_items(data: dict, cursor: int) -> tuple[list[dict], bool]:
    items = data.get("items")
    if not isinstance(items, list):
        raise _BadFeed("items: a list is required")
    last = cursor
    for item in items:
        seq = item.get("seq") if isinstance(item, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool) or seq <= last or seq > 2**63 - 1:
            raise _BadFeed("items[].seq: increasing integers after the cursor required")
        last = seq
    return items, bool(data.get("more"))


def _pull_failed(subscription: Subscription, message: str, status: int | None, took: int) -> None:
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(last_error=message[:1000], last_run_at=timezone.now())
        DeliveryAttempt.objects.create(
            subscription=subscription,
            direction="pull",
            outcome=DeliveryAttempt.Outcome.RETRY,
            status_code=status,
            message=message[:1000],
            duration_ms=took,
        )
    subscription.last_error = message[:1000]
    logger.warning("federation pull %s failed: %s", subscription.name, message)


def _log_page(subscription: Subscription, counts: dict, status: int, took: int) -> None:
    summary = ", ".join(f"{name} {n}" for name, n in counts.items() if n)
    DeliveryAttempt.objects.create(
        subscription=subscription,
        direction="pull",
        outcome=DeliveryAttempt.Outcome.PULLED,
        status_code=status,
        message=summary,
        duration_ms=took,
    )


def _sync_item(subscription: Subscription, item: dict, counts: dict) -> None:
    seq = item["seq"]
    raw = {k: v for k, v in item.items() if k != "seq"}
    try:
        envelope = env.validate(raw, bases=registered_bases_of_peer(subscription.peer))
        if envelope["kind"] != subscription.kind:
            raise env.EnvelopeError(f"kind: this set carries {subscription.kind}, not {envelope['kind']}")
    except env.EnvelopeError as exc:
        _item_failed(subscription, seq, raw, str(exc), counts)
        return
    record = Record.objects.filter(uid=envelope["uid"]).select_related("page").first()
    reason = _skip_reason(record, envelope)
    if reason:
        _advance(subscription, seq)
        counts["skipped"] += 1
        return
    files, missing = _fetch_files(envelope, subscription.peer) if envelope["status"] == "live" else ({}, [])
    try:
        with transaction.atomic(durable=True):
            lock_records()
            current = Subscription.objects.select_for_update().get(pk=subscription.pk)
            if current.cursor >= seq:  # another run got here first
                subscription.cursor = current.cursor
                return
            outcome = _apply(current, envelope, files, missing)
            Subscription.objects.filter(pk=subscription.pk).update(cursor=seq)
    except ValidationError as exc:
        _item_failed(subscription, seq, envelope, "；".join(exc.messages), counts)
        return
    subscription.cursor = seq
    counts[outcome] += 1


def _advance(subscription: Subscription, seq: int) -> None:
    Subscription.objects.filter(pk=subscription.pk, cursor__lt=seq).update(cursor=seq)
    subscription.cursor = max(subscription.cursor, seq)


def _skip_reason(record: Record | None, envelope: dict) -> str:
    if record is None:
        return "" if envelope["status"] == "live" else "never imported"
    if record.is_local:
        return "this site's own item"
    if envelope["version"] <= record.version:
        return "not newer"
    if record.status == Record.Status.DELETED:
        return "tombstone"
    if record.sync_state == Record.SyncState.FORKED:
        return "forked"
    if record.page_id is None and record.version > 0 and item_kinds.get(record.kind) is None:
        return "copy deleted here"
    return ""


def _item_failed(subscription: Subscription, seq: int, envelope: dict, message: str, counts: dict) -> None:
    """An item this site cannot take (bad envelope, invalid page): noted on its record, skipped.

    Its record keeps the last good version (0 when never imported), so the next upstream version
    is tried again."""
    with transaction.atomic():
        lock_records()
        uid = envelope.get("uid")
        record = Record.objects.filter(uid=uid).first() if _is_uuid(uid) else None
        if record is not None and not record.is_local:
            Record.objects.filter(pk=record.pk).update(sync_state=Record.SyncState.FAILED, sync_message=message)
        elif record is None and _is_uuid(uid) and "catalogue_id" in envelope and "content_hash" in envelope:
            try:
                fields = _record_fields(envelope)
            except (KeyError, TypeError, AttributeError):
                fields = None
            if fields:
                Record.objects.create(
                    uid=uid,
                    **fields | {"version": 0, "seq": next_seq(), "is_local": False, "subscription": subscription},
                    sync_state=Record.SyncState.FAILED,
                    sync_message=message,
                )
        Subscription.objects.filter(pk=subscription.pk, cursor__lt=seq).update(cursor=seq)
        DeliveryAttempt.objects.create(
            subscription=subscription,
            direction="pull",
            outcome=DeliveryAttempt.Outcome.DEAD,
            message=f"{uid}: {message}"[:1000],
        )
    subscription.cursor = max(subscription.cursor, seq)
    counts["failed"] += 1


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _retry_incomplete(subscription: Subscription, counts: dict) -> None:
    """Copies imported without some of their files (sync_state pending) try the files again."""
    from django.db.models import Q

    for record in Record.objects.filter(
        Q(page__isnull=False) | Q(kind__in=list(item_kinds.REGISTRY)),
        subscription=subscription,
        is_local=False,
        sync_state=Record.SyncState.PENDING,
    ).order_by("seq"):
        envelope = record.envelope
        files, missing = _fetch_files(envelope, subscription.peer)
        if missing and len(missing) == len(record.sync_message.splitlines()):
            continue  # still nothing new to add
        with transaction.atomic(durable=True):
            lock_records()
            current = Subscription.objects.get(pk=subscription.pk)
            outcome = _apply(current, envelope, files, missing)
        counts[outcome] += 1


# --- Files -----------------------------------------------------------------------------------------


def _referenced_assets(envelope: dict) -> list[dict]:
    payload = envelope["payload"]
    wanted = {payload.get("cover_image"), payload.get("document")}
    for block in payload.get("body") or []:
        value = block.get("value") if isinstance(block, dict) else None
        if block.get("type") == "image" and isinstance(value, dict):
            wanted.add(value.get("asset"))
        elif block.get("type") == "gallery" and isinstance(value, list):
            wanted.update(v.get("asset") for v in value if isinstance(v, dict))
    item_kind = item_kinds.get(envelope.get("kind"))
    if item_kind is not None:
        wanted |= item_kind.assets(envelope)
    by_sha = {a.get("sha256"): a for a in envelope.get("assets") or [] if isinstance(a, dict)}
    return [by_sha.get(sha) or {"sha256": sha} for sha in sorted(s for s in wanted if s)]


def _fetch_files(envelope: dict, peer) -> tuple[dict[str, MediaAsset], list[str]]:
    """The item's files, fetched outside any transaction: ({sha256: MediaAsset}, [problems])."""
    files, missing = {}, []
    for asset in _referenced_assets(envelope):
        sha = asset["sha256"]
        if "url" not in asset and "path" not in asset:
            missing.append(f"{sha[:12]}: 报文中没有这个文件")
            continue
        try:
            files[sha] = fetch_asset(asset, peer=peer)
        except MediaError as exc:
            missing.append(f"{asset.get('filename') or sha[:12]}: {exc}")
    return files, missing


# --- Applying one item -----------------------------------------------------------------------------


def _apply(subscription: Subscription, envelope: dict, files: dict, missing: list[str]) -> str:
    """Create, update, withdraw or leave the copy of `envelope`; inside the item's transaction."""
    record = Record.objects.select_for_update().filter(uid=envelope["uid"]).first()
    item_kind = item_kinds.get(envelope["kind"])
    if item_kind is not None:
        return _apply_item(item_kind, subscription, envelope, files, missing, record)
    status = envelope["status"]
    if record is None or record.page_id is None:
        return _create(subscription, envelope, files, missing, record)
    page = record.page.specific
    if status != "live":
        return _withdraw(record, page, envelope)
    latest = page.get_latest_revision_as_object()
    modified = bool(record.imported_hash) and fingerprint(latest) != record.imported_hash
    policy = subscription.policy
    if modified and policy == Subscription.Policy.FORK:
        _save_record(
            record,
            envelope=None,
            sync_state=Record.SyncState.FORKED,
            sync_message="本站已修改此副本，按订阅策略转为独立内容，不再随国家平台更新",
        )
        return "skipped"
    if modified and policy == Subscription.Policy.UPDATE_UNLESS_MODIFIED:
        _save_record(
            record,
            envelope=envelope,
            sync_state=Record.SyncState.DIVERGED,
            sync_message=f"本站已修改此副本，未更新到国家平台的第 {envelope['version']} 版",
        )
        return "diverged"
    _assign(latest, envelope, files)
    revision = latest.save_revision(log_action=True)
    _release(subscription, latest, revision)
    _save_record(
        record,
        envelope=envelope,
        imported_hash=fingerprint(revision.as_object()),
        **_state_after_import(missing),
    )
    _relock(subscription, latest)
    return "updated"


def _apply_item(item_kind, subscription, envelope, files, missing, record: Record | None) -> str:
    """A registered plain-model item: its app applies it, the record follows as for a page."""
    outcome = item_kind.apply(envelope, files, missing)
    fields = _record_fields(envelope) | {
        "seq": next_seq(),
        "changed_at": timezone.now(),
        "is_local": False,
        "subscription": subscription,
        **_state_after_import(missing),
    }
    if record is None:
        Record.objects.create(uid=envelope["uid"], **fields)
    else:
        Record.objects.filter(pk=record.pk).update(**fields)
    return outcome


def _create(subscription, envelope, files, missing, record: Record | None) -> str:
    page_model = _page_models()[subscription.kind][0]
    parent = subscription.parent_page.specific
    page = page_model(uid=envelope["uid"], push_to_national=False, live=False)
    _assign(page, envelope, files)
    page.slug = free_slug(parent, envelope["payload"].get("slug") or "item")
    parent.add_child(instance=page)
    fields = _record_fields(envelope) | {
        "seq": next_seq(),
        "changed_at": timezone.now(),
        "is_local": False,
        "page": page,
        "subscription": subscription,
        **_state_after_import(missing),
    }
    if record is None:
        record = Record.objects.create(uid=envelope["uid"], **fields)
    else:
        Record.objects.filter(pk=record.pk).update(**fields)
        record.refresh_from_db()
    # The record exists before the publish, so the publish signal knows this is a pulled copy.
    revision = page.save_revision(log_action=True)
    _release(subscription, page, revision)
    Record.objects.filter(pk=record.pk).update(imported_hash=fingerprint(revision.as_object()))
    _relock(subscription, page)
    return "created"


def _state_after_import(missing: list[str]) -> dict:
    if missing:
        return {"sync_state": Record.SyncState.PENDING, "sync_message": "\n".join(missing)}
    return {"sync_state": Record.SyncState.SYNCED, "sync_message": ""}


def _withdraw(record: Record, page, envelope: dict) -> str:
    """Upstream unpublished or deleted: the copy is unpublished; the page stays for the editors."""
    if page.live:
        page.unpublish(user=None)
    state = page.current_workflow_state
    if state is not None:
        state.cancel(user=None)
    deleted = envelope["status"] == "deleted"
    _save_record(
        record,
        envelope=envelope,
        sync_message="国家平台已删除此内容，本站副本已撤回（页面保留）" if deleted else "国家平台已撤回此内容",
    )
    return "deleted" if deleted else "unpublished"


def _release(subscription: Subscription, page, revision) -> None:
    """Publish the revision (auto_publish) or submit it to the site's review workflow (user: none)."""
    if subscription.auto_publish:
        revision.publish(user=None)
        return
    state = page.current_workflow_state
    if state is not None:
        state.cancel(user=None)  # a newer upstream version replaces what was waiting for review
    workflow = page.get_workflow()
    if workflow is not None:
        workflow.start(page, None)


def _relock(subscription: Subscription, page) -> None:
    from wagtail.models import Page

    if subscription.policy == Subscription.Policy.LOCK:
        now = timezone.now()
        Page.objects.filter(pk=page.pk).update(locked=True, locked_at=now, locked_by=None)
        page.locked, page.locked_at, page.locked_by = True, now, None


def _save_record(record: Record, *, envelope: dict | None, **extra) -> None:
    fields = dict(extra)
    if envelope is not None:
        fields |= _record_fields(envelope)
    fields |= {"seq": next_seq(), "changed_at": timezone.now()}
    Record.objects.filter(pk=record.pk).update(**fields)


def free_slug(parent, slug: str, *, exclude_pk=None) -> str:
    """`slug`, or slug-2, slug-3 … : the first one no sibling under `parent` uses."""
    from wagtail.models import Page

    base = slug[:240] or "item"
    taken = set(Page.objects.child_of(parent).filter(slug__startswith=base).values_list("slug", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# --- Mapping the payload onto a page ---------------------------------------------------------------


def _parse_datetime(value):
    if not value:
        return None
    return datetime.datetime.fromisoformat(str(value))


def _parse_date(value):
    if not value:
        return None
    return datetime.date.fromisoformat(str(value)[:10])


def _image_value(ref, files: dict) -> dict | None:
    if not isinstance(ref, dict):
        return None
    media = files.get(ref.get("asset"))
    if media is None or media.image_id is None:
        return None
    return {"image": media.image_id, "alt_text": ref.get("alt_text", ""), "decorative": bool(ref.get("decorative"))}


def _local_body(blocks, files: dict, envelope: dict) -> list[dict]:
    body = []
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        kind, value = block.get("type"), block.get("value")
        if kind in ("heading", "paragraph") and isinstance(value, str):
            body.append({"type": kind, "value": value})
        elif kind == "image":
            image = _image_value(value, files)
            if image:
                body.append({"type": "image", "value": image})
        elif kind == "gallery" and isinstance(value, list):
            images = [img for img in (_image_value(v, files) for v in value) if img]
            if images:
                body.append({"type": "gallery", "value": [{"type": "item", "value": img} for img in images]})
        elif kind == "video" and isinstance(value, dict) and value.get("embed"):
            body.append({"type": "video", "value": {"title": value.get("title", ""), "embed": value["embed"]}})
        elif kind == "audio" and isinstance(value, dict) and value.get("url"):
            body.append({"type": "audio", "value": {k: value.get(k, "") for k in ("title", "url", "transcript")}})
        elif kind == "quote" and isinstance(value, dict):
            body.append({"type": "quote", "value": {k: value.get(k, "") for k in ("text", "attribution")}})
        elif kind == "call_to_action" and isinstance(value, dict) and value.get("url"):
            body.append(
                {
                    "type": "call_to_action",
                    "value": {k: value.get(k, "") for k in ("text", "label", "url")} | {"page": None},
                }
            )
    origin = envelope.get("origin") or {}
    name = escape(origin.get("name") or envelope.get("attribution") or "")
    url = escape(envelope.get("canonical_url") or "")
    link = f'<a href="{url}">{name}</a>' if url else name
    body.append({"type": "paragraph", "value": f"<p>来源：{link}</p>"})
    return body


def _assign(page, envelope: dict, files: dict) -> None:
    """Set the page's importable fields from the payload (the slug only when the page is new)."""
    payload = envelope["payload"]
    page.title = str(payload["title"])[:255]
    page.draft_title = page.title
    page.original_url = str(envelope.get("canonical_url") or "")[:500]
    page.summary = str(payload.get("summary") or "")
    page.seo_title = str(payload.get("seo_title") or "")[:255]
    page.search_description = str(payload.get("search_description") or "")
    cover = files.get(payload.get("cover_image"))
    page.cover_image_id = cover.image_id if cover else None
    page.body = _local_body(payload.get("body"), files, envelope)
    origin = envelope.get("origin") or {}
    if envelope["kind"] == "activity":
        page.start = _parse_datetime(payload.get("start"))
        page.end = _parse_datetime(payload.get("end"))
        page.category = str(payload.get("category") or "other")[:20]
        page.audience = str(payload.get("audience") or "all")[:20]
        page.organiser = str(payload.get("organiser") or origin.get("name") or "")[:200]
        where = [payload.get("venue_name"), payload.get("venue_address"), payload.get("location_note")]
        page.location_note = "；".join(str(p) for p in where if p)[:200]
        page.venue = None
    else:
        page.kind = str(payload.get("resource_kind") or "article")[:20]
        page.category = str(payload.get("category") or "art")[:20]
        page.stream_url = str(payload.get("stream_url") or "")[:200]
        seconds = payload.get("duration_seconds")
        page.duration = datetime.timedelta(seconds=seconds) if isinstance(seconds, int) else None
        document = files.get(payload.get("document"))
        page.document_id = document.document_id if document else None
        dc = payload.get("dc") or {}
        for name in page.DUBLIN_CORE:
            if name == "date":
                page.date = _parse_date(dc.get("date"))
            else:
                limit = page._meta.get_field(name).max_length
                value = str(dc.get(name) or "")
                setattr(page, name, value[:limit] if limit else value)
        # Attribution: where it comes from stays visible with the Dublin Core of the copy.
        page.source = str(envelope.get("canonical_url") or dc.get("source") or "")[:255]
        page.publisher = str(dc.get("publisher") or origin.get("name") or "")[:255]
        page.identifier = str(dc.get("identifier") or envelope.get("catalogue_id") or "")[:255]
        if not page.document_id and page.kind in ("video", "audio") and not page.stream_url:
            page.kind = "article"  # its file did not come: shown as an article rather than refused


def _fields_of(page) -> tuple[str, ...]:
    extra = ACTIVITY_FIELDS if env.kind_of(page) == "activity" else (*RESOURCE_FIELDS, *page.DUBLIN_CORE)
    return (*COMMON_FIELDS, *extra)


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date | datetime.timedelta):
        return str(value)
    return value


def _without_ids(value):
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    return value


def fingerprint(page) -> str:
    """Hash of what an import writes into `page` (to notice an editor's change to a copy)."""
    data = {name: _plain(getattr(page, name)) for name in _fields_of(page)}
    data["cover_image"] = page.cover_image_id
    data["document"] = getattr(page, "document_id", None)
    data["body"] = _without_ids(list(page.body.raw_data))
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


# --- What changed here -----------------------------------------------------------------------------


def diff_against_upstream(record: Record) -> list[dict]:
    """Where a pulled copy (latest revision) differs from the upstream version held in its record.

    [{"field": Chinese label, "upstream": str, "local": str}], in the page's field order; empty
    when the copy has no page or nothing differs."""
    if record.page_id is None or record.is_local:
        return []
    local = record.page.specific.get_latest_revision_as_object()
    shas = [a["sha256"] for a in _referenced_assets(record.envelope)]
    files = {m.sha256: m for m in MediaAsset.objects.filter(sha256__in=shas)}
    upstream = type(local)(uid=record.uid)
    _assign(upstream, record.envelope, files)
    rows = []
    for name in _fields_of(local):
        theirs, ours = _shown(upstream, name), _shown(local, name)
        if theirs != ours:
            rows.append({"field": str(local._meta.get_field(name).verbose_name), "upstream": theirs, "local": ours})
    for name, label in (("cover_image", "封面图"), ("document", "资源文件")):
        if not hasattr(local, f"{name}_id"):
            continue
        if getattr(upstream, f"{name}_id") != getattr(local, f"{name}_id"):
            rows.append({"field": label, "upstream": _shown(upstream, name), "local": _shown(local, name)})
    theirs, ours = _body_text(upstream), _body_text(local)
    if theirs != ours:
        rows.append({"field": "正文", "upstream": theirs, "local": ours})
    return rows


def _shown(page, name: str) -> str:
    value = getattr(page, name)
    if value is None:
        return ""
    if name in ("cover_image", "document"):
        return value.title
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    display = getattr(page, f"get_{name}_display", None)
    return str(display() if display else value)


def _body_text(page) -> str:
    from django.utils.html import strip_tags

    parts = page._meta.get_field("body").get_searchable_content(page.body)
    return strip_tags("\n".join(str(p) for p in parts if p)).strip()
