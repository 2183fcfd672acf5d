"""Federation benchmark: push delivery, pull, and a sync where nothing changed, at two catalogue sizes.

Run on demand from the repository root (it is not a test):

    .venv/bin/python bench/federation.py                 # 10,000 items
    .venv/bin/python bench/federation.py --items 500     # a quick check
    .venv/bin/python bench/federation.py --keep          # leave the tenants in place afterwards

It works in its own database, `culture_bench_federation` on the embedded PostgreSQL (or the
database of DATABASE_URL, or CULTURE_DB_NAME), with three tenants of its own: a national site
(`bfednat`), a province that pushes (`bfedsrc`, 330000) and a province that pulls (`bfeddst`,
510000); one deployment, so the transport is the loopback (same signing, same receiving code,
no network). Every run drops and recreates them. See bench/README.md ("Federation").

What is measured, honestly:
* page creation: `--sample` real resource pages created and published as an editor does
  (revision, publish, catalogue record, outbox entry), pages/s. Creating 10,000 Wagtail pages
  this way would take most of the run, so
* the outbox is then filled to `--items` entries by copying those sample envelopes under new
  uids (bulk insert of Record + OutboxEntry rows: not measured), and
* delivery: `services.deliver_pending()` sends all of them to the national site in batches of
  100 (sign, verify, validate, upsert by (uid, version), jieba segmentation), items/s;
* pull: the national site's own catalogue is filled with `--items` resource records (copies of
  a real national resource's envelope, bulk insert: not measured) and the pulling province's
  subscription imports them as real pages (revision + publish each), items/s;
* a sync where nothing changed: `deliver_pending()` with nothing pending and
  `sync_subscription()` with nothing new, median of 11 runs after a warm-up, and the number of
  queries, once with a catalogue of items/10 and once with items: the ratio shows whether the
  cost follows the catalogue size (it must not).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DB_NAME = "culture_bench_federation"
NATIONAL, SOURCE, PULLER = "bfednat", "bfedsrc", "bfeddst"
TARGET_NO_CHANGE_S = 1.0
TARGET_SIZE_RATIO = 2.0  # no-change sync at items vs items/10: at most this (ideally ~1)
NO_CHANGE_RUNS = 11


def setup_django() -> None:
    sys.path.insert(0, str(REPO_ROOT))
    # DEBUG off (core.settings.test): no query log growing over 10,000 items, as in production.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.test")
    if not os.environ.get("DATABASE_URL"):
        os.environ.setdefault("CULTURE_DB_NAME", BENCH_DB_NAME)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


# --- tenants --------------------------------------------------------------------------------------


def drop_tenants() -> None:
    from django.db import connection

    from tenants.models import CultureSite, Domain

    connection.set_schema_to_public()
    for slug in (PULLER, SOURCE, NATIONAL):
        Domain.objects.filter(tenant__schema_name=slug).delete()
        CultureSite.objects.filter(schema_name=slug).delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')


def prepare() -> None:
    from django.core.management import call_command

    from tenants import services

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    drop_tenants()
    if services.TEMPLATE_SCHEMA in services.schemas_with_pending_migrations():
        call_command("migrate_schemas", schema_name=services.TEMPLATE_SCHEMA, interactive=False, verbosity=0)
    services.ensure_platform_tenant()
    services.ensure_template()
    # National first: the provinces get their loopback uplink and key as they are created.
    for slug, name, kind, code in (
        (NATIONAL, "基准国家平台", "national", "100000"),
        (SOURCE, "基准推送省", "province", "330000"),
        (PULLER, "基准订阅省", "province", "510000"),
    ):
        services.create_culture_site(services.NewSite(slug=slug, name=name, kind=kind, region_code=code))


def resource_index():
    from cms_pages.models import HomePage, ResourceIndexPage

    index = ResourceIndexPage.objects.first()
    if index is None:
        home = HomePage.objects.get(locale__language_code="zh-hans")
        index = ResourceIndexPage(title="数字资源", slug="resources")
        home.add_child(instance=index)
        index.save_revision().publish()
    return index


def create_resource(index, i: int):
    import datetime

    from django.db import transaction

    from cms_pages.models import ResourcePage

    with transaction.atomic():  # as a write request does (core.transactions)
        page = ResourcePage(
            title=f"越剧经典唱段 第{i + 1}集",
            slug=f"yueju-{i + 1}",
            kind="video",
            category="tradition",
            stream_url=f"https://video.example.cn/yueju/{i + 1}.m3u8",
            duration=datetime.timedelta(minutes=45),
            summary="浙江小百花越剧团演出的经典剧目，含唱词字幕。",
            creator="浙江小百花越剧团",
            subject="越剧；戏曲",
            push_to_national=True,
        )
        index.add_child(instance=page)
        page.save_revision().publish()
    return page


# --- filling tables fast (setup, not measured) ----------------------------------------------------


def copies(envelopes: list[dict], n: int, *, origin_code: str):
    """`n` envelopes copied from `envelopes` under new uids (title and slug their own), with their hashes."""
    from federation import envelope as env

    for i in range(n):
        source = envelopes[i % len(envelopes)]
        uid = str(uuid.uuid4())
        payload = {
            **source["payload"],
            "title": f"{source['payload']['title']}（副本 {i + 1}）",
            "slug": f"{source['payload'].get('slug') or 'item'}-{uid[:8]}",
        }
        copy = {
            **source,
            "uid": uid,
            "payload": payload,
            "catalogue_id": env.catalogue_id(origin_code, "resource", uid),
        }
        copy["content_hash"] = env.content_hash(copy)
        yield copy


def bulk_records(envelopes, *, with_outbox: bool, chunk: int = 1000) -> None:
    """Local Records (and their pending OutboxEntries) for `envelopes`, seq taken under the lock."""
    from django.db import transaction
    from django.utils import timezone

    from federation import services
    from federation.models import OutboxEntry, Record

    batch: list[dict] = []

    def flush():
        with transaction.atomic():
            services.lock_records()
            seq = services.next_seq()
            now = timezone.now()
            records = Record.objects.bulk_create(
                [
                    Record(uid=e["uid"], is_local=True, seq=seq + k, changed_at=now, **services._record_fields(e))
                    for k, e in enumerate(batch)
                ]
            )
            if with_outbox:
                OutboxEntry.objects.bulk_create(
                    [
                        OutboxEntry(record=r, version=e["version"], action=e["status"], envelope=e)
                        for r, e in zip(records, batch, strict=True)
                    ]
                )
        batch.clear()

    for envelope in envelopes:
        batch.append(envelope)
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()


# --- measurements ----------------------------------------------------------------------------------


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def no_change(fn) -> tuple[float, int]:
    """Median seconds of NO_CHANGE_RUNS calls of `fn` (after one warm-up), and the queries of the last one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm-up: plans and catalog caches of a connection that just did bulk work
    times = []
    for _ in range(NO_CHANGE_RUNS):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            _, took = timed(fn)
        times.append(took)
    if os.environ.get("BENCH_SHOW_QUERIES"):
        for query in queries.captured_queries:
            print("    ", query["time"], query["sql"][:160])
    return statistics.median(times), len(queries)


def vacuum(schema: str) -> None:
    """What autovacuum does shortly after a bulk change: dead index entries gone, statistics fresh."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("federation_outboxentry", "federation_record", "federation_seennonce"):
            cursor.execute(f'VACUUM ANALYZE "{schema}".{table}')


def no_change_both(fn, schemas) -> tuple:
    """No-change timing right after the bulk change, then after VACUUM ANALYZE of `schemas`."""
    fresh = no_change(fn)
    for schema in schemas:
        vacuum(schema)
    return fresh, no_change(fn)


def push_no_change():
    from federation import services

    counts = services.deliver_pending()
    assert counts["delivered"] == 0, counts


def run(items: int, sample: int) -> bool:
    from django_tenants.utils import schema_context

    from federation import pull, services
    from federation.models import OutboxEntry, Record

    small = max(1, items // 10)
    figures: dict[str, object] = {}
    print(f"federation benchmark: {items} items (no-change syncs at {small} and {items}), sample of {sample} pages")

    # 1. Push: page creation (sample), then delivery of `items` envelopes.
    with schema_context(SOURCE):
        index = resource_index()
        pages, took = timed(lambda: [create_resource(index, i) for i in range(sample)])
        figures["create"] = (sample, took)
        envelopes = list(OutboxEntry.objects.order_by("pk").values_list("envelope", flat=True))
        assert len(envelopes) == sample, f"expected {sample} outbox entries, got {len(envelopes)}"
        # Outbox filled to items/10, delivered, then a delivery run with nothing pending; then
        # filled to `items`, delivered, and the run with nothing pending again.
        _, fill = timed(lambda: bulk_records(copies(envelopes, small - sample, origin_code="330000"), with_outbox=True))
        first, took_first = timed(services.deliver_pending)
        figures["push_nc_small"] = no_change_both(push_no_change, [SOURCE])
        _, more = timed(lambda: bulk_records(copies(envelopes, items - small, origin_code="330000"), with_outbox=True))
        print(f"  (setup: {items - sample} more outbox entries copied in {fill + more:.1f} s)")
        rest, took_rest = timed(services.deliver_pending)
        delivered = first["delivered"] + rest["delivered"]
        assert delivered == items and not (first["dead"] or rest["dead"]), (first, rest)
        figures["deliver"] = (delivered, took_first + took_rest)
        figures["push_nc_large"] = no_change_both(push_no_change, [SOURCE])
    with schema_context(NATIONAL):
        received = Record.objects.filter(is_local=False, origin_code="330000").count()
        assert received == items, f"national catalogue holds {received} of {items} pushed items"

    # 2. Pull: the national site's own resources into the pulling province.
    with schema_context(NATIONAL):
        national_index = resource_index()
        seed = create_resource(national_index, 0)
        seed_envelope = Record.objects.get(uid=seed.uid).envelope
        _, fill = timed(
            lambda: bulk_records(copies([seed_envelope], small - 1, origin_code="100000"), with_outbox=False)
        )
    with schema_context(PULLER):
        subscription = pull.subscribe(
            peer=services.uplink(), set_spec="national-resources", parent_page=resource_index(),
            auto_publish=True, name="国家数字资源",
        )  # fmt: skip
        counts, took_first = timed(lambda: pull.sync_subscription(subscription))
        assert counts["created"] == small and not counts["failed"], counts
        figures["pull_nc_small"] = no_change_both(lambda: pull.sync_subscription(subscription), [PULLER, NATIONAL])
    with schema_context(NATIONAL):
        _, more = timed(
            lambda: bulk_records(copies([seed_envelope], items - small, origin_code="100000"), with_outbox=False)
        )
        print(f"  (setup: {items - 1} national records copied in {fill + more:.1f} s)")
    with schema_context(PULLER):
        counts, took_rest = timed(lambda: pull.sync_subscription(subscription))
        assert counts["created"] == items - small and not counts["failed"], counts
        figures["pull"] = (items, took_first + took_rest)
        figures["pull_nc_large"] = no_change_both(lambda: pull.sync_subscription(subscription), [PULLER, NATIONAL])
        pulled = Record.objects.filter(subscription=subscription).count()
        assert pulled == items, f"{pulled} of {items} pulled"
    return report(figures, small, items)


def report(f: dict, small: int, items: int) -> bool:
    ok = True

    def rate(key: str, label: str) -> None:
        n, seconds = f[key]
        print(f"  {label:<44} {n:>6} in {seconds:7.1f} s   {n / seconds:8.1f} items/s")

    print("\nThroughput (one deployment, loopback transport)")
    rate("create", "page creation + record + outbox (editor path)")
    rate("deliver", "push delivery to the national site")
    rate("pull", "pull into a province (pages published)")
    print(
        f"  delivery vs page creation: {(f['deliver'][0] / f['deliver'][1]) / (f['create'][0] / f['create'][1]):.1f}×"
    )

    print(f"\nSync where nothing changed (median of {NO_CHANGE_RUNS}; target ≤ {TARGET_NO_CHANGE_S:.0f} s, "
          f"{items}/{small} ratio ≤ {TARGET_SIZE_RATIO:.0f}×)")  # fmt: skip
    print(f"  {'':<52}{'at ' + str(small):>12}{'at ' + str(items):>12}{'ratio':>9}   result")
    for label, key in (("push (nothing pending)", "push_nc"), ("pull (nothing new)", "pull_nc")):
        for when, k in (("right after the bulk change", 0), ("after VACUUM ANALYZE", 1)):
            (t_small, q_small), (t_large, q_large) = f[f"{key}_small"][k], f[f"{key}_large"][k]
            ratio = t_large / t_small if t_small else float("inf")
            line = f"  {label + ', ' + when:<52}{t_small * 1000:>9.1f} ms{t_large * 1000:>9.1f} ms{ratio:>8.2f}×"
            if k == 1:  # the steady state is what the targets are about
                passed = t_large <= TARGET_NO_CHANGE_S and ratio <= TARGET_SIZE_RATIO and q_large == q_small
                ok &= passed
                line += f"   {'PASS' if passed else 'FAIL'}"
            print(line)
        print(f"  {'  queries':<52}{q_small:>12}{q_large:>12}")
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000, help="items pushed and pulled (default 10,000)")
    parser.add_argument("--sample", type=int, default=200, help="real pages created and published (default 200)")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark's tenants in place")
    args = parser.parse_args()
    if args.items < 10:
        parser.error("--items: at least 10")
    args.sample = max(1, min(args.sample, args.items // 10))  # the first delivery round is items/10
    return args


def main() -> int:
    args = parse_args()
    setup_django()
    from django.db import connection

    print(f"database: {connection.settings_dict['NAME']}")
    started = time.perf_counter()
    prepare()
    print(f"  (setup: tenants created in {time.perf_counter() - started:.1f} s)")
    try:
        ok = run(args.items, args.sample)
    finally:
        if not args.keep:
            drop_tenants()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
