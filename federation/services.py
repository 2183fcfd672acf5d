"""Federation writes: catalogue records, the outbox and its delivery, keys and links between nodes.

Never lost, never doubled (ARCHITECTURE §5):
* a publish/unpublish/delete updates the page's catalogue `Record` and writes an `OutboxEntry`
  in the transaction of the change itself (write requests are atomic: core.transactions);
* delivery runs later, outside any transaction, with exponential backoff and full jitter, a
  circuit breaker per peer and dead letters for permanent errors;
* the receiver upserts by (uid, version): a duplicate changes nothing, a stale version is ignored.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context

from cms_pages.privacy import is_public
from core.chinese import segment

from . import envelope as env
from .models import DeliveryAttempt, FederationSettings, InboundKey, OutboxEntry, Peer, Record
from .transport import TransportError, for_peer, monotonic_ms

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_ATTEMPTS = 12
BACKOFF_BASE = 10  # seconds; attempt n waits up to BACKOFF_BASE * 2**(n-1), capped
BACKOFF_CAP = 6 * 3600
BREAKER_THRESHOLD = 5  # failures in a row before the peer is left alone
BREAKER_COOLDOWN = timedelta(minutes=2)
KEY_GRACE = timedelta(days=1)  # a rotated key keeps working this long


# --- Catalogue records -------------------------------------------------------------------------


def lock_records() -> None:
    """Serialise record changes in this schema until the transaction ends.

    `seq` is handed out under this lock, so sequence order is commit order and a reader paging by
    `seq > cursor` can never skip a change that commits later with a smaller number.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':federation.record'))")


def next_seq() -> int:
    return (Record.objects.aggregate(m=Max("seq"))["m"] or 0) + 1


def searchable_text(envelope: dict) -> str:
    payload = envelope["payload"]
    dc = payload.get("dc") or {}
    parts = [payload.get("title", ""), payload.get("summary", ""), payload.get("organiser", "")]
    parts += [str(dc.get(name) or "") for name in ("creator", "subject", "description", "publisher", "coverage")]
    parts += [envelope["origin"].get("name", "")]
    return segment("\n".join(p for p in parts if p))


def _record_fields(envelope: dict) -> dict:
    payload = envelope["payload"]
    origin = envelope["origin"]
    return {
        "catalogue_id": envelope["catalogue_id"],
        "origin_code": origin["code"],
        "origin_slug": origin.get("slug", "")[:63],
        "origin_name": origin.get("name", "")[:100],
        "kind": envelope["kind"],
        "category": str(payload.get("category") or "")[:20],
        "title": str(payload["title"])[:255],
        "version": envelope["version"],
        "status": envelope["status"],
        "content_hash": envelope["content_hash"],
        "envelope": envelope,
        "origin_updated_at": envelope["updated_at"],
        "search_text": searchable_text(envelope),
    }


def site_pushes(kind: str) -> bool:
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    return bool(site) and FederationSettings.for_site(site).pushes(kind)


def is_national_schema() -> bool:
    return get_tenant_model().objects.filter(schema_name=connection.schema_name, kind="national").exists()


def _is_original_language(page) -> bool:
    """Translations (zh-Hant, English ...) stay on their site: the catalogue holds the original."""
    from languages.services import is_original_language

    return is_original_language(page)


def record_local_change(page, status: str) -> Record | None:
    """Bring this site's catalogue record of `page` up to date and queue its delivery.

    Called from the publish/unpublish/delete signals, i.e. inside the transaction of the change.
    Re-publishing without a change adds no version and sends nothing. Whether the item is shared
    with the national site is part of what it says: ticking or unticking 推送到国家平台 makes a
    new version (delivered, or delivered as a withdrawal).
    """
    kind = env.kind_of(page)
    if kind is None or not _is_original_language(page):
        return None
    with transaction.atomic():
        lock_records()
        record = Record.objects.filter(uid=page.uid).first()
        if record is None and status != "live":
            return None  # never published: nothing to withdraw
        if record is not None and not record.is_local:
            return record  # a pulled copy (federation.pull): another site's item, not ours to push
        if record is not None and record.status == Record.Status.DELETED:
            return record  # a tombstone is final (a delete also unpublishes on its way out)
        version = record.version + 1 if record else 1
        if not is_public(page):
            # Under a view restriction: withdrawn like an unpublish (deleted: a tombstone), and
            # nothing of it travels — not its title, body, files or address.
            if record is None:
                return None
            envelope = env.build_withheld_envelope(page, version=version, status=status)
        else:
            envelope = env.build_envelope(page, status=status, version=version)
        shared = page.push_to_national or site_pushes(kind)
        local_hash = hashlib.sha256(f"{envelope['content_hash']}:{int(shared)}".encode()).hexdigest()
        if record and record.content_hash == local_hash:
            return record
        fields = _record_fields(envelope) | {
            "seq": next_seq(),
            "changed_at": timezone.now(),
            "page": page,
            "content_hash": local_hash,
        }
        if record is None:
            record = Record.objects.create(uid=page.uid, is_local=True, **fields)
        else:
            Record.objects.filter(pk=record.pk).update(**fields)
            record.refresh_from_db()
        _queue_push(record, shared, envelope)
    return record


def restriction_changed(page_id: int) -> int:
    """A view restriction on page `page_id` was added, changed or removed: every live shareable
    page in its section is recorded again (withdrawn while restricted, pushed again once public).

    Called from the restriction's signals, inside the transaction of the change. Returns how many
    pages were looked at."""
    from wagtail.models import Page

    section = Page.objects.filter(pk=page_id).first()
    if section is None:  # the page itself is being deleted: its own delete signal withdraws it
        return 0
    pages = Page.objects.descendant_of(section, inclusive=True).live().type(*_shareable_models())
    count = 0
    for page in pages.specific().iterator():
        record_local_change(page, "live")
        count += 1
    return count


def withdraw_restricted() -> int:
    """Withdraw this site's items still recorded live although a view restriction now covers them
    (restrictions set before this check existed, or changed by a path that sent no signal).
    Run by every `federation_sync`; returns how many were withdrawn."""
    from wagtail.models import Page

    stale = Record.objects.filter(
        is_local=True, status=Record.Status.LIVE, page__in=Page.objects.not_public().values("pk")
    ).select_related("page")
    count = 0
    for record in stale:
        if record.page is not None:
            record_local_change(record.page.specific, "live")
            count += 1
    return count


def _shareable_models():
    from cms_pages.models import ActivityPage, NewsPage, ResourcePage

    return (NewsPage, ActivityPage, ResourcePage)


def record_local_item(uid, envelope: dict) -> Record | None:
    """A plain-model item of this site (federation.item_kinds: a training course) changed.

    Like `record_local_change` for pages: under the record lock, a new version and `seq` only when
    what the item says changed, so the feed carries it once per change. Such items are published
    by the national site to its subscribers and are not pushed up (no outbox).
    """
    with transaction.atomic():
        lock_records()
        record = Record.objects.filter(uid=uid).first()
        if record is None and envelope["status"] != "live":
            return None
        if record is not None and (not record.is_local or record.status == Record.Status.DELETED):
            return record
        envelope = {**envelope, "version": record.version + 1 if record else 1}
        envelope["content_hash"] = env.content_hash(envelope)
        if record is not None and record.content_hash == envelope["content_hash"]:
            return record
        fields = _record_fields(envelope) | {"seq": next_seq(), "changed_at": timezone.now()}
        if record is None:
            return Record.objects.create(uid=uid, is_local=True, **fields)
        Record.objects.filter(pk=record.pk).update(**fields)
        record.refresh_from_db()
        return record


def _queue_push(record: Record, wants_push: bool, envelope: dict) -> None:
    pushed_before = record.outbox.exists()
    if not wants_push and not pushed_before:
        return
    if is_national_schema():
        return  # the national site is the catalogue itself
    if not wants_push:
        # Pushed once, no longer wanted: the national catalogue withdraws it.
        envelope = {**envelope, "status": "unpublished" if envelope["status"] == "live" else envelope["status"]}
        envelope["content_hash"] = env.content_hash(envelope)
    OutboxEntry.objects.create(record=record, version=record.version, action=envelope["status"], envelope=envelope)
    schema = connection.schema_name
    transaction.on_commit(lambda: _enqueue_delivery(schema))


def push_existing(kinds) -> int:
    """Queue every live page of `kinds` that the national catalogue has not got yet.

    Used when a site switches a push policy on: its editors expect the resources already
    published to follow, not only the next ones. Returns how many entries were queued.
    """
    from cms_pages.models import ActivityPage, NewsPage, ResourcePage
    from cms_pages.privacy import public

    if is_national_schema():
        return 0
    models_by_kind = {"news": NewsPage, "activity": ActivityPage, "resource": ResourcePage}
    queued = 0
    for kind in kinds:
        for page in public(models_by_kind[kind].objects.live()).specific().iterator():
            with transaction.atomic():
                record = Record.objects.filter(uid=page.uid).first()
                if record is None:  # published before federation was installed
                    record_local_change(page, "live")  # creates the record and queues it
                    queued += 1
                    continue
                if not record.is_local or record.outbox.exists():
                    continue  # a pulled copy is not ours to push; or it was pushed already
                envelope = record.envelope
                OutboxEntry.objects.create(
                    record=record, version=record.version, action=envelope["status"], envelope=envelope
                )
                schema = connection.schema_name
                transaction.on_commit(lambda schema=schema: _enqueue_delivery(schema))
                queued += 1
    return queued


def _enqueue_delivery(schema: str) -> None:
    from .tasks import deliver_outbox_task

    with schema_context(schema):
        deliver_outbox_task.enqueue()


# --- Delivery ------------------------------------------------------------------------------------


def uplink() -> Peer | None:
    return Peer.objects.filter(is_uplink=True).order_by("pk").first()


def backoff_delay(attempts: int) -> float:
    """Full jitter: a random wait up to the exponential bound, so retries of many nodes spread out."""
    bound = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return random.uniform(bound / 2, bound)  # noqa: S311 (spreading retries, not a secret)


def _retry_after_seconds(value) -> float | None:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def deliver_pending(*, limit: int | None = None, progress=None) -> dict:
    """Deliver due outbox entries of this schema to the uplink, in batches. Returns counts.

    Talks to another node: call it outside transactions (the task and the command do).
    """
    counts = {"delivered": 0, "retry": 0, "dead": 0, "skipped": 0}
    peer = uplink()
    if peer is None:
        return counts
    sent = 0
    while limit is None or sent < limit:
        now = timezone.now()
        if peer.open_until and peer.open_until > now:
            counts["skipped"] += OutboxEntry.objects.filter(state=OutboxEntry.State.PENDING).count()
            break
        size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - sent)
        batch = list(
            OutboxEntry.objects.filter(state=OutboxEntry.State.PENDING, next_attempt_at__lte=now).order_by("pk")[:size]
        )
        if not batch:
            break
        _deliver_batch(peer, batch, counts)
        sent += len(batch)
        if progress:
            progress(len(batch))
        if counts["retry"]:
            break  # the peer is struggling: leave the rest for the next run
    return counts


def _deliver_batch(peer: Peer, batch: list[OutboxEntry], counts: dict) -> None:
    started = time.monotonic()
    try:
        answer = for_peer(peer).request("POST", "/federation/inbox/", {"envelopes": [e.envelope for e in batch]})
    except TransportError as exc:
        _batch_failed(peer, batch, exc, monotonic_ms(started), counts)
        return
    took = monotonic_ms(started)
    results = answer.data.get("results") or []
    by_key = {(r.get("uid"), r.get("version")): r for r in results if isinstance(r, dict)}
    now = timezone.now()
    with transaction.atomic():
        Peer.objects.filter(pk=peer.pk).update(consecutive_failures=0, open_until=None)
        peer.consecutive_failures, peer.open_until = 0, None
        for entry in batch:
            result = by_key.get((entry.envelope["uid"], entry.envelope["version"]))
            outcome = (result or {}).get("outcome", "")
            entry.attempts += 1
            if outcome in ("accepted", "duplicate", "stale"):
                entry.state = OutboxEntry.State.DELIVERED
                entry.delivered_at = now
                entry.catalogue_id = result.get("catalogue_id", "")[:120]
                entry.last_error = ""
                counts["delivered"] += 1
                log_outcome = outcome
            else:
                entry.state = OutboxEntry.State.DEAD
                entry.last_error = (result or {}).get("message") or "no result for this item in the answer"
                counts["dead"] += 1
                log_outcome = DeliveryAttempt.Outcome.DEAD
            entry.save(update_fields=["attempts", "state", "delivered_at", "catalogue_id", "last_error"])
            DeliveryAttempt.objects.create(
                outbox=entry,
                outcome=log_outcome,
                status_code=answer.status,
                message=entry.last_error or entry.catalogue_id,
                duration_ms=took,
            )


def _batch_failed(peer: Peer, batch: list[OutboxEntry], exc: TransportError, took: int, counts: dict) -> None:
    now = timezone.now()
    with transaction.atomic():
        failures = peer.consecutive_failures + 1
        open_until = now + BREAKER_COOLDOWN if failures >= BREAKER_THRESHOLD else None
        Peer.objects.filter(pk=peer.pk).update(consecutive_failures=failures, open_until=open_until)
        peer.consecutive_failures, peer.open_until = failures, open_until
        for entry in batch:
            entry.attempts += 1
            entry.last_error = str(exc)[:1000]
            if not exc.retryable or entry.attempts >= MAX_ATTEMPTS:
                entry.state = OutboxEntry.State.DEAD
                counts["dead"] += 1
                outcome = DeliveryAttempt.Outcome.DEAD
            else:
                wait = _retry_after_seconds(exc.retry_after) or backoff_delay(entry.attempts)
                entry.next_attempt_at = now + timedelta(seconds=wait)
                counts["retry"] += 1
                outcome = DeliveryAttempt.Outcome.RETRY
            entry.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
            DeliveryAttempt.objects.create(
                outbox=entry, outcome=outcome, status_code=exc.status, message=entry.last_error, duration_ms=took
            )
    logger.warning("federation delivery to %s failed (%s): %s", peer.name, "retry" if exc.retryable else "dead", exc)


def retry_dead_letters(entry_ids=None) -> int:
    """Put dead letters (all, or the given ones) back in the queue; returns how many."""
    entries = OutboxEntry.objects.filter(state=OutboxEntry.State.DEAD)
    if entry_ids is not None:
        entries = entries.filter(pk__in=entry_ids)
    count = entries.update(state=OutboxEntry.State.PENDING, next_attempt_at=timezone.now(), attempts=0)
    if count:
        schema = connection.schema_name
        transaction.on_commit(lambda: _enqueue_delivery(schema))
    return count


# --- Receiving (the national side) ---------------------------------------------------------------


def _site_bases(site) -> list[str]:
    from core.urls_util import domain_url

    # each domain with its own scheme and port when the operator set them (tenants.set_primary_address)
    return [domain_url(domain).rstrip("/") for domain in site.domains.all()]


def registered_bases_of_key(key: InboundKey) -> list[str]:
    """The base URLs the site behind `key` publishes on: its domains when it is a site of this
    deployment, the base URL registered with its key otherwise (federation_issue_key --origin-url)."""
    site = (
        get_tenant_model()
        .objects.filter(schema_name=key.origin_slug, region_code=key.origin_code)
        .prefetch_related("domains")
        .first()
    )
    bases = _site_bases(site) if site else []
    return [*bases, key.base_url] if key.base_url else bases


def registered_bases_of_peer(peer: Peer) -> list[str]:
    """The base URLs a peer publishes on: the national site's domains over the loopback, its
    address and public address (federation_set_uplink --url/--public-url) otherwise."""
    if peer.is_loopback:
        site = get_tenant_model().objects.filter(kind="national").prefetch_related("domains").first()
        return _site_bases(site) if site else []
    return [url for url in (peer.base_url, peer.public_url) if url]


def receive(envelope: dict, key: InboundKey, *, bases: list[str] | None = None) -> dict:
    """Upsert one pushed item by (uid, version). Returns {uid, version, outcome, catalogue_id, message}.

    Anything wrong with the item (shape, numbers, dates, URLs off the origin's registered base)
    rejects this item only, with a message naming the field."""
    if not isinstance(envelope, dict):
        return {"uid": None, "version": None, "outcome": "rejected", "message": "envelope: not an object"}
    uid, version = envelope.get("uid"), envelope.get("version")
    result = {
        "uid": uid if isinstance(uid, str) and len(uid) <= 64 else None,
        "version": version if isinstance(version, int) and abs(version) <= 2**63 else None,
    }
    try:
        envelope = env.validate(envelope)
    except env.EnvelopeError as exc:
        return result | {"outcome": "rejected", "message": str(exc)}
    origin = envelope["origin"]
    if origin["code"] != key.origin_code:
        return result | {"outcome": "rejected", "message": "origin.code does not match the signing key's site"}
    try:  # the key's site is the origin: its URLs must be on that site's registered address
        env.check_addresses(envelope, registered_bases_of_key(key) if bases is None else bases)
    except env.EnvelopeError as exc:
        return result | {"outcome": "rejected", "message": str(exc)}
    # The catalogue identifier is ours to assign, whatever the sender wrote.
    envelope["catalogue_id"] = env.catalogue_id(key.origin_code, envelope["kind"], envelope["uid"])
    envelope["origin"] = {**origin, "slug": key.origin_slug, "name": key.origin_name}
    with transaction.atomic():
        lock_records()
        record = Record.objects.filter(uid=envelope["uid"]).first()
        if record and record.origin_code != key.origin_code:
            return result | {"outcome": "rejected", "message": "uid belongs to another site"}
        if record and record.is_local:
            return result | {"outcome": "rejected", "message": "uid belongs to this site"}
        if record and envelope["version"] == record.version:
            return result | {"outcome": "duplicate", "catalogue_id": record.catalogue_id}
        if record and envelope["version"] < record.version:
            return result | {"outcome": "stale", "catalogue_id": record.catalogue_id}
        fields = _record_fields(envelope) | {"seq": next_seq(), "changed_at": timezone.now(), "is_local": False}
        if record is None:
            record = Record.objects.create(uid=envelope["uid"], **fields)
        else:
            Record.objects.filter(pk=record.pk).update(**fields)
            if record.featured:  # shown on the home page (各地精选): its cached copy is stale
                from core.page_cache import content_changed

                content_changed()
    return result | {"outcome": "accepted", "catalogue_id": envelope["catalogue_id"]}


def fetch_covers_later() -> None:
    """After received items commit: fetch their cover images from their origins (covers.py), in
    the background: a slow origin must not hold up the sender's delivery."""
    from .tasks import fetch_catalogue_covers_task

    schema = connection.schema_name

    def enqueue() -> None:
        with schema_context(schema):
            fetch_catalogue_covers_task.enqueue()

    transaction.on_commit(enqueue)


def feed(set_spec: str, after: int, limit: int) -> tuple[list[dict], int, bool]:
    """This site's own items of a set after `after`, in change order, tombstones included."""
    from .models import Subscription

    kind = Subscription.SETS[set_spec][1]
    rows = list(
        Record.objects.filter(is_local=True, kind=kind, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "envelope")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [envelope | {"seq": seq} for seq, envelope in rows]
    return items, (rows[-1][0] if rows else after), more


# --- Featuring (the national home page's 各地精选) ------------------------------------------------


def can_feature(user) -> bool:
    """National editors who may feature catalogue items: superusers and holders of change_record."""
    return bool(
        user is not None and user.is_active and (user.is_superuser or user.has_perm("federation.change_record"))
    )


def set_featured(record: Record, featured: bool, *, by=None) -> Record:
    """Feature (or stop featuring) a catalogue item on the national home page.

    National site only; only a live item can be featured (unfeaturing always works). With `by`,
    that user must pass `can_feature` (PermissionDenied otherwise). Featuring is not a change of
    the item: no new `seq`, feeds and harvests are untouched. The site's cached pages and home
    fragments are dropped so the home page shows the change on the next request.
    """
    from django.core.exceptions import PermissionDenied

    from core.page_cache import content_changed

    if by is not None and not can_feature(by):
        raise PermissionDenied("没有推荐目录条目的权限。")
    if not is_national_schema():
        raise ValueError("只有国家平台可以推荐目录条目。")
    if featured and record.status != Record.Status.LIVE:
        raise ValueError("只能推荐已发布的条目。")
    if Record.objects.filter(pk=record.pk).exclude(featured=featured).update(featured=featured):
        content_changed()
    record.featured = featured
    return record


# --- Keys and links ------------------------------------------------------------------------------


def issue_inbound_key(*, origin_code: str, origin_slug: str, origin_name: str, origin_url: str = "") -> tuple[str, str]:
    """On the receiving node: a new key for a site. Returns (key id, secret) to hand to that site.

    `origin_url`: the site's registered base URL when it is another deployment (its envelopes'
    URLs must be on it; its files are fetched only from there)."""
    key_id = f"{origin_slug}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    key = InboundKey(
        key_id=key_id, origin_code=origin_code, origin_slug=origin_slug, origin_name=origin_name, base_url=origin_url
    )
    key.secret = secret
    key.save()
    return key_id, secret


def expire_inbound_key(key_id: str, *, origin_code: str, grace: timedelta = KEY_GRACE) -> InboundKey:
    """On the receiving node: a rotated-out key of `origin_code` stops working after `grace`.

    Never extends a key that already expires sooner. Raises InboundKey.DoesNotExist when the key
    is unknown here or belongs to another site.
    """
    key = InboundKey.objects.select_for_update().get(key_id=key_id, origin_code=origin_code)
    expires_at = timezone.now() + grace
    if key.expires_at is None or key.expires_at > expires_at:
        key.expires_at = expires_at
        key.save(update_fields=["expires_at"])
    return key


def set_uplink(*, name: str, base_url: str, key_id: str, secret: str, public_url: str = "") -> Peer:
    """On a sending site: where its uplink is and the key it signs with (replaces the old key).
    `public_url`: where the uplink publishes its pages and files, when not at `base_url`."""
    peer = uplink() or Peer(is_uplink=True)
    peer.name, peer.base_url, peer.key_id, peer.public_url = name, base_url, key_id, public_url
    peer.secret = secret
    peer.consecutive_failures, peer.open_until = 0, None
    peer.save()
    return peer


def link_site_to_national(site) -> bool:
    """Inside one deployment: give `site` a loopback uplink to the national site and a key there.

    Idempotent; returns True when a link was made. The national site and the template get none.
    """
    national = get_tenant_model().objects.filter(kind="national").first()
    if national is None or site.kind not in get_tenant_model().REPORTING_KINDS:
        return False
    with schema_context(site.schema_name):
        if uplink() is not None:
            return False
    with schema_context(national.schema_name), transaction.atomic():
        key_id, secret = issue_inbound_key(
            origin_code=site.region_code, origin_slug=site.schema_name, origin_name=site.name
        )
    with schema_context(site.schema_name), transaction.atomic():
        set_uplink(name=national.name, base_url="", key_id=key_id, secret=secret)
    return True


def rotate_key(site) -> str:
    """Inside one deployment: a new key for `site`; the old one keeps working for KEY_GRACE."""
    national = get_tenant_model().objects.get(kind="national")
    with schema_context(site.schema_name):
        peer = uplink()
        old_key_id = peer.key_id if peer else None
    with schema_context(national.schema_name), transaction.atomic():
        key_id, secret = issue_inbound_key(
            origin_code=site.region_code, origin_slug=site.schema_name, origin_name=site.name
        )
        if old_key_id:
            InboundKey.objects.filter(key_id=old_key_id).update(expires_at=timezone.now() + KEY_GRACE)
    with schema_context(site.schema_name), transaction.atomic():
        set_uplink(name=national.name, base_url=peer.base_url if peer else "", key_id=key_id, secret=secret)
    return key_id
