"""The operator's commands that link sites: issue a key, set an uplink, rotate a key.

Each test runs the command as an operator would (call_command, the secret on stdin) and then
checks what a site notices: its next publish reaches the national catalogue, or does not.
The same commands link separate deployments over HTTP: tests/federation/test_two_deployments.py.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from federation import services
from federation.models import InboundKey, OutboxEntry, Peer

from .conftest import national_record, new_resource

pytestmark = pytest.mark.django_db


def run(name: str, *args, stdin: str | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command(name, *args, stdout=out, stderr=err, **extra)
    return out.getvalue(), err.getvalue()


def issue(*extra, tenant="national", code="330000", slug="zhejiang", name="浙江文化云") -> tuple[str, str]:
    out, _ = run(
        "federation_issue_key", "--tenant", tenant, "--origin-code", code, "--origin-slug", slug,
        "--origin-name", name, *extra,
    )  # fmt: skip
    key_id = re.search(r"^key id: (\S+)$", out, re.M).group(1)
    secret = re.search(r"^secret: (\S+)$", out, re.M).group(1)
    return key_id, secret


def set_uplink(key_id: str, secret: str, *where, tenant="zhejiang") -> str:
    where = where or ("--loopback",)
    out, _ = run(
        "federation_set_uplink", "--tenant", tenant, "--name", "国家公共文化云", *where, "--key-id", key_id,
        stdin=secret + "\n",
    )  # fmt: skip
    return out


def publish_and_deliver(title: str):
    with schema_context("zhejiang"):
        page = new_resource(title)
        counts = services.deliver_pending()
        entry = OutboxEntry.objects.get(record__uid=page.uid)
    return page, counts, entry


def test_issued_key_set_as_uplink_carries_the_next_publish(zhejiang):
    key_id, secret = issue()
    with schema_context("national"):
        key = InboundKey.objects.get(key_id=key_id)
        assert (key.origin_code, key.origin_slug, key.origin_name) == ("330000", "zhejiang", "浙江文化云")
        assert key.secret == secret and key.usable()
    assert key_id.startswith("zhejiang-")

    out = set_uplink(key_id, secret)
    assert "uplink of zhejiang: 国家公共文化云" in out and secret not in out
    assert services.uplink().key_id == key_id and services.uplink().is_loopback

    page, counts, entry = publish_and_deliver("用新密钥推送的资源")
    assert counts["delivered"] == 1 and entry.state == "delivered"
    assert national_record(page.uid).catalogue_id == f"urn:culture:330000:resource:{page.uid}"


def test_setting_the_same_uplink_again_changes_nothing(zhejiang):
    key_id, secret = issue()
    set_uplink(key_id, secret)
    before = list(Peer.objects.values_list("pk", "name", "base_url", "key_id"))
    set_uplink(key_id, secret)
    assert list(Peer.objects.values_list("pk", "name", "base_url", "key_id")) == before
    assert Peer.objects.filter(is_uplink=True).count() == 1


def test_secret_from_an_environment_variable(zhejiang, monkeypatch):
    key_id, secret = issue()
    monkeypatch.setenv("NATIONAL_SECRET", secret)
    run("federation_set_uplink", "--tenant", "zhejiang", "--name", "国家公共文化云", "--loopback",
        "--key-id", key_id, "--secret-env", "NATIONAL_SECRET")  # fmt: skip
    assert services.uplink().secret == secret


def test_a_wrong_secret_is_caught_by_check_and_deliveries_wait(zhejiang):
    key_id, _secret = issue()
    with pytest.raises(CommandError, match="check failed: HTTP 401"):
        run("federation_set_uplink", "--tenant", "zhejiang", "--name", "国家公共文化云", "--loopback",
            "--key-id", key_id, "--check", stdin="not-the-secret\n")  # fmt: skip
    page, counts, entry = publish_and_deliver("密钥错误时的资源")
    assert counts["retry"] == 1 and entry.state == "pending"  # 401 is retried: an operator can fix the key
    assert national_record(page.uid) is None


def test_check_reports_a_working_link(zhejiang):
    key_id, secret = issue()
    out, _ = run("federation_set_uplink", "--tenant", "zhejiang", "--name", "国家公共文化云", "--loopback",
                 "--key-id", key_id, "--check", stdin=secret)  # fmt: skip
    assert "check: the uplink accepted a signed request (HTTP 200)" in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--tenant", "hainan"], "s", "--tenant: no site 'hainan'"),
        (["--tenant", "national"], "s", "--tenant: national is a national site"),
        (["--url", "ftp://national.example/"], "s", "--url: an http:// or https:// URL is required"),
        (["--url", "https://national.example/culture/"], "s", "--url: give the site's root URL"),
        ([], "\n", "secret: pipe it on stdin"),
        (["--secret-env", "NO_SUCH_VARIABLE_HERE"], "s", "--secret-env: the environment variable"),
    ],
)
def test_set_uplink_refuses_bad_input_naming_the_field(zhejiang, args, stdin, message):
    before = list(Peer.objects.values_list("key_id", "base_url"))
    options = dict(zip(args[::2], args[1::2], strict=True))
    argv = ["--tenant", options.get("--tenant", "zhejiang"), "--name", "国家公共文化云", "--key-id", "k1"]
    argv += ["--url", options["--url"]] if "--url" in options else ["--loopback"]
    if "--secret-env" in options:
        argv += ["--secret-env", options["--secret-env"]]
    with pytest.raises(CommandError, match=re.escape(message)):
        run("federation_set_uplink", *argv, stdin=stdin)
    assert list(Peer.objects.values_list("key_id", "base_url")) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("--origin-code", "33000", "--origin-code: a 6-digit region code"),
        ("--origin-slug", "Zhe Jiang", "--origin-slug: lower-case letters"),
        ("--origin-name", " ", "--origin-name: between 1 and 100"),
        ("--tenant", "nowhere", "--tenant: no site 'nowhere'"),
    ],
)
def test_issue_key_refuses_bad_input_naming_the_field(field, value, message):
    options = {"--tenant": "national", "--origin-code": "330000", "--origin-slug": "zhejiang",
               "--origin-name": "浙江文化云"} | {field: value}  # fmt: skip
    with schema_context("national"):
        before = InboundKey.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        run("federation_issue_key", *[x for pair in options.items() for x in pair])
    with schema_context("national"):
        assert InboundKey.objects.count() == before


def test_rotation_between_deployments_keeps_the_old_key_for_the_grace_period(zhejiang):
    old_id, old_secret = issue()
    set_uplink(old_id, old_secret)
    new_id, new_secret = issue("--expire-old", old_id, "--grace-hours", "2")
    with schema_context("national"):
        old = InboundKey.objects.get(key_id=old_id)
        assert old.usable()  # deliveries signed just before the switch still land
        assert not old.usable(timezone.now() + timedelta(hours=2, seconds=1))
        assert InboundKey.objects.get(key_id=new_id).usable(timezone.now() + timedelta(days=365))

    page, counts, _entry = publish_and_deliver("轮换前用旧密钥推送")
    assert counts["delivered"] == 1
    set_uplink(new_id, new_secret)
    with schema_context("national"):
        InboundKey.objects.filter(key_id=old_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    page, counts, _entry = publish_and_deliver("轮换后用新密钥推送")
    assert counts["delivered"] == 1 and national_record(page.uid) is not None


def test_expire_old_refuses_a_key_of_another_site():
    sichuan_id, _ = issue(code="510000", slug="sichuan", name="四川文化云")
    with pytest.raises(CommandError, match=re.escape(f"--expire-old: no key '{sichuan_id}' of site 330000")):
        issue("--expire-old", sichuan_id)
    with schema_context("national"):
        assert InboundKey.objects.get(key_id=sichuan_id).expires_at is None


def test_keys_and_uplinks_stay_in_their_own_tenant(zhejiang):
    """Cross-tenant: a key lives in the receiving schema only, an uplink in the sending one only."""
    key_id, secret = issue()
    with schema_context("zhejiang"):
        assert not InboundKey.objects.filter(key_id=key_id).exists()
    with schema_context("sichuan"):
        sichuan_key = services.uplink().key_id
    set_uplink(key_id, secret)
    with schema_context("sichuan"):
        assert services.uplink().key_id == sichuan_key
        assert not Peer.objects.filter(key_id=key_id).exists()
    with schema_context("national"):
        assert not Peer.objects.filter(key_id=key_id).exists()


def test_rotate_key_in_one_deployment(zhejiang):
    old_id = services.uplink().key_id
    out, _ = run("federation_rotate_key", "--tenant", "zhejiang")
    new_id = re.search(r"^key id: (\S+)$", out, re.M).group(1)
    assert new_id != old_id and f"old key {old_id} stops working at" in out
    assert services.uplink().key_id == new_id
    with schema_context("national"):
        old = InboundKey.objects.get(key_id=old_id)
        assert old.usable() and not old.usable(timezone.now() + services.KEY_GRACE + timedelta(seconds=1))
    page, counts, _entry = publish_and_deliver("轮换密钥后的资源")
    assert counts["delivered"] == 1 and national_record(page.uid) is not None


def test_rotate_key_refuses_an_uplink_in_another_deployment(zhejiang):
    key_id, secret = issue()
    set_uplink(key_id, secret, "--url", "https://national.example/")
    with pytest.raises(CommandError, match=r"pushes to another deployment \(https://national.example\)"):
        run("federation_rotate_key", "--tenant", "zhejiang")
    with pytest.raises(CommandError, match="--tenant: national is a national site"):
        run("federation_rotate_key", "--tenant", "national")
