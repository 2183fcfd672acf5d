"""`manage.py federation_sync` and the worker's periodic federation sync, per tenant."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tenants.utils import schema_context

from core.scheduled import federation_sync_everywhere
from federation.models import DeliveryAttempt, OutboxEntry, Peer, Record

from .conftest import national_record, new_resource, quiet_push_policy

pytestmark = pytest.mark.django_db
SITES = ["dalian", "liaoning", "national", "sichuan", "zhejiang"]


def sync(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    connection.set_schema_to_public()
    call_command("federation_sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def pending_in(schema: str, title: str) -> Record:
    with schema_context(schema):
        quiet_push_policy()
        page = new_resource(title)
        assert OutboxEntry.objects.filter(record__uid=page.uid, state="pending").exists()
        return Record.objects.get(uid=page.uid)


def states(schema: str) -> list[str]:
    with schema_context(schema):
        return list(OutboxEntry.objects.order_by("pk").values_list("state", flat=True))


def test_command_delivers_pending_entries_with_progress_and_summary_and_is_idempotent():
    record = pending_in("zhejiang", "命令推送：杭州西湖龙井茶采制技艺")

    out, err = sync("--tenant", "zhejiang")

    assert err == ""
    assert "zhejiang:" in out
    assert "push [##############################] 1/1" in out
    assert "zhejiang: push delivered=1 retry=0 dead=0 skipped=0" in out
    assert "1/1 sites synced" in out
    assert states("zhejiang") == ["delivered"]
    received = national_record(record.uid)
    assert received.version == record.version and received.title == "命令推送：杭州西湖龙井茶采制技艺"
    with schema_context("zhejiang"):
        attempts = DeliveryAttempt.objects.count()

    again, _ = sync("--tenant", "zhejiang")

    assert "zhejiang: push delivered=0 retry=0 dead=0 skipped=0" in again
    assert states("zhejiang") == ["delivered"]
    with schema_context("zhejiang"):
        assert DeliveryAttempt.objects.count() == attempts  # nothing sent the second time
    assert national_record(record.uid).version == received.version


def test_tenant_option_limits_the_scope():
    pending_in("zhejiang", "只同步浙江：温州瓯剧")
    pending_in("sichuan", "四川留待下次：自贡灯会")

    out, _ = sync("--tenant", "zhejiang", "--push-only")

    assert "zhejiang:" in out and "sichuan" not in out
    assert states("zhejiang") == ["delivered"]
    assert states("sichuan") == ["pending"]


def test_every_served_site_by_default_never_the_public_schema_or_the_template():
    pending_in("sichuan", "全部同步：蜀锦织造技艺")
    out, _ = sync("--push-only")
    visited = [line.split(":")[0] for line in out.splitlines() if line.endswith(":")]
    assert visited == SITES
    assert f"{len(SITES)}/{len(SITES)} sites synced" in out
    assert states("sichuan") == ["delivered"]


def test_limit_delivers_at_most_n_entries():
    with schema_context("zhejiang"):
        quiet_push_policy()
        for i in range(3):
            new_resource(f"限量推送 {i}")
    out, _ = sync("--tenant", "zhejiang", "--push-only", "--limit", "2")
    assert "push [##############################] 2/2" in out  # the bar counts what --limit lets through
    assert "delivered=2" in out
    assert sorted(states("zhejiang")) == ["delivered", "delivered", "pending"]


def test_bad_options_are_refused_naming_the_option():
    with pytest.raises(CommandError, match="--tenant: unknown site nowhere"):
        sync("--tenant", "nowhere")
    with pytest.raises(CommandError, match="--tenant: unknown site public"):
        sync("--tenant", "public")
    with pytest.raises(CommandError, match="--limit"):
        sync("--limit", "0")
    with pytest.raises(CommandError, match="not allowed with argument"):
        sync("--push-only", "--pull-only")


def test_a_failing_site_makes_the_command_fail_and_the_others_still_run():
    pending_in("zhejiang", "失败站点：宁波泥金彩漆")
    pending_in("sichuan", "照常同步：绵竹年画")
    with schema_context("zhejiang"):
        # The uplink's secret can no longer be read (e.g. the encryption key changed).
        Peer.objects.filter(is_uplink=True).update(secret_encrypted="not-a-valid-token")

    out, err = io.StringIO(), io.StringIO()
    connection.set_schema_to_public()
    with pytest.raises(CommandError, match="federation sync failed for: zhejiang"):
        call_command("federation_sync", "--push-only", stdout=out, stderr=err)

    assert "zhejiang: FAILED" in err.getvalue()
    assert "sichuan: push delivered=1" in out.getvalue()
    assert f"{len(SITES) - 1}/{len(SITES)} sites synced" in out.getvalue()
    assert states("zhejiang") == ["pending"]
    assert states("sichuan") == ["delivered"]


def test_pull_runs_the_subscriptions_of_each_site():
    from cms_pages import models as m
    from federation import pull, services
    from federation.models import Subscription

    with schema_context("national"):
        upstream = new_resource("命令拉取：国家图书馆·四库全书", push=False)
    with schema_context("zhejiang"):
        quiet_push_policy()
        pull.subscribe(
            peer=services.uplink(),
            set_spec="national-resources",
            parent_page=m.ResourceIndexPage.objects.get(),
            policy=Subscription.Policy.UPDATE_UNLESS_MODIFIED,
            auto_publish=True,
            name="国家数字资源",
        )

    out, _ = sync("--tenant", "zhejiang", "--pull-only")

    assert re.search(r"^zhejiang: pull created=[1-9]\d* ", out, re.M), out
    assert "push delivered" not in out
    with schema_context("zhejiang"):
        assert m.ResourcePage.objects.filter(uid=upstream.uid, live=True).exists()
        cursor = Subscription.objects.get(set_spec="national-resources").cursor
    again, _ = sync("--tenant", "zhejiang", "--pull-only")
    assert "created=0" in again
    with schema_context("zhejiang"):
        assert m.ResourcePage.objects.filter(uid=upstream.uid).count() == 1
        assert Subscription.objects.get(set_spec="national-resources").cursor == cursor


# --- The worker ------------------------------------------------------------------------------------


def _sync_tasks():
    return DBTaskResult.objects.filter(task_path="federation.tasks.federation_sync_task")


def test_worker_queues_one_sync_per_site_and_never_twice_while_one_waits():
    connection.set_schema_to_public()
    DBTaskResult.objects.filter(task_path="federation.tasks.federation_sync_task").delete()

    assert sorted(federation_sync_everywhere()) == SITES
    assert sorted(t.args_kwargs["tenant"] for t in _sync_tasks()) == SITES
    assert federation_sync_everywhere() == []  # still waiting: nothing queued twice
    assert _sync_tasks().count() == len(SITES)


def test_the_queued_sync_delivers_in_its_own_site():
    from tests.core.test_tasks import run

    record = pending_in("zhejiang", "定时同步：舟山锣鼓")
    connection.set_schema_to_public()
    _sync_tasks().delete()
    federation_sync_everywhere()
    task = run(_sync_tasks().get(args_kwargs__tenant="zhejiang").id)  # as the worker does

    assert task.status == TaskResultStatus.SUCCESSFUL, task.traceback
    assert task.return_value["push"]["delivered"] == 1
    assert states("zhejiang") == ["delivered"]
    assert national_record(record.uid).title == "定时同步：舟山锣鼓"
    # Done: the next round queues zhejiang again.
    assert "zhejiang" in federation_sync_everywhere()
