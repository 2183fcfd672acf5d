"""Exporting one tenant to an archive and restoring it: content, media, rows; refusals change nothing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants import backup, services
from tenants.models import CultureSite, Domain

SLUG = "backupcity"
HOST = "backupcity.culture.localhost"


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def site(committed_db, media_root):
    return services.create_culture_site(
        services.NewSite(slug=SLUG, name="备份测试", kind="city", region_code="330200", parent_slug="zhejiang")
    )


def publish_title(title: str) -> None:
    from cms_pages.models import HomePage

    with schema_context(SLUG):
        home = HomePage.objects.get()
        home.title = title
        home.save_revision().publish()


def save_media(name: str, content: bytes) -> None:
    with schema_context(SLUG):
        if default_storage.exists(name):
            default_storage.delete(name)
        assert default_storage.save(name, ContentFile(content)) == name


def served_title(client) -> str:
    response = client.get("/", HTTP_HOST=HOST)
    assert response.status_code == 200
    html = response.content.decode()
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def served_media(client, name: str) -> bytes | None:
    response = client.get(f"/media/{SLUG}/{name}", HTTP_HOST=HOST)
    if response.status_code == 404:
        return None
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def delete_tenant(media_root: Path) -> None:
    import shutil

    connection.set_schema_to_public()
    CultureSite.objects.filter(schema_name=SLUG).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{SLUG}" CASCADE')
    shutil.rmtree(media_root / SLUG, ignore_errors=True)


def all_schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def assert_nothing_left(media_root: Path) -> None:
    connection.set_schema_to_public()
    assert not schema_exists(SLUG)
    assert not CultureSite.objects.filter(schema_name=SLUG).exists()
    assert not Domain.objects.filter(domain=HOST).exists()
    assert not [s for s in all_schemas() if s.startswith(f"{SLUG}__")]
    assert sorted(p.name for p in media_root.iterdir()) == [] if media_root.exists() else True


def rewrite_archive(source: Path, target: Path, change) -> Path:
    """Copy an archive, passing each member (name, bytes) through `change`, which may return None to drop it."""
    with tarfile.open(source, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            result = change(member.name, data)
            if result is None:
                continue
            if member.isfile():
                member.size = len(result)
                dst.addfile(member, io.BytesIO(result))
            else:
                dst.addfile(member)
    return target


def test_round_trip_restores_content_media_and_rows(site, media_root, tmp_path, client):
    publish_title("备份前修改的标题")
    save_media("images/x.txt", b"tenant file")

    archive = backup.export_culture_site(SLUG, tmp_path / "backups")
    assert archive.parent == tmp_path / "backups" and archive.name.startswith(f"{SLUG}-")
    with tarfile.open(archive, "r:gz") as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert {"manifest.json", "schema.dump", "media/images/x.txt"} <= names
    assert manifest["format_version"] == backup.FORMAT_VERSION
    assert manifest["site"] == {
        "schema_name": SLUG,
        "name": "备份测试",
        "kind": "city",
        "parent": "zhejiang",
        "region_code": "330200",
        "is_active": True,
    }
    assert manifest["domains"] == [{"domain": HOST, "is_primary": True}]
    assert "cms_pages.0001_initial" in manifest["migrations"]

    delete_tenant(media_root)
    assert client.get("/", HTTP_HOST=HOST).status_code == 404

    restored = backup.restore_culture_site(archive)

    assert served_title(client) == "备份前修改的标题"
    assert served_media(client, "images/x.txt") == b"tenant file"
    assert restored.parent.schema_name == "zhejiang"
    assert (restored.kind, restored.region_code, restored.is_active) == ("city", "330200", True)
    assert list(restored.domains.values_list("domain", "is_primary")) == [(HOST, True)]
    assert sorted(p.name for p in media_root.iterdir()) == [SLUG]  # no staging folder left


def test_existing_site_is_not_overwritten_without_replace(site, media_root, tmp_path, client):
    publish_title("导出时的标题")
    save_media("images/x.txt", b"exported")
    archive = backup.export_culture_site(SLUG, tmp_path / "backups")
    publish_title("导出之后的标题")
    save_media("images/x.txt", b"after export")
    schemas = all_schemas()

    with pytest.raises(services.ProvisioningError) as excinfo:
        backup.restore_culture_site(archive)
    assert "--replace" in excinfo.value.message_dict["slug"][0]

    assert served_title(client) == "导出之后的标题"
    assert served_media(client, "images/x.txt") == b"after export"
    assert all_schemas() == schemas
    assert CultureSite.objects.get(schema_name=SLUG).pk == site.pk
    assert sorted(p.name for p in media_root.iterdir()) == [SLUG]


def test_replace_puts_back_the_exported_content(site, media_root, tmp_path, client):
    publish_title("导出时的标题")
    save_media("images/x.txt", b"exported")
    backups = tmp_path / "backups"
    call_command("export_culture_site", SLUG, output=str(backups))
    [archive] = backups.glob("*.tar.gz")
    publish_title("导出之后的标题")
    save_media("images/x.txt", b"after export")
    save_media("images/y.txt", b"added after export")
    Domain.objects.create(domain="backup-extra.localhost", tenant=site, is_primary=False)

    call_command("restore_culture_site", str(archive), replace=True)

    assert served_title(client) == "导出时的标题"
    assert served_media(client, "images/x.txt") == b"exported"
    assert served_media(client, "images/y.txt") is None
    restored = CultureSite.objects.get(schema_name=SLUG)
    assert restored.pk == site.pk  # replaced in place: children and references keep their row
    assert list(restored.domains.values_list("domain", flat=True)) == [HOST]
    assert not [s for s in all_schemas() if s.startswith(f"{SLUG}__")]
    assert sorted(p.name for p in media_root.iterdir()) == [SLUG]


def test_corrupt_archives_are_refused_and_leave_nothing_behind(site, media_root, tmp_path):
    save_media("images/x.txt", b"tenant file")
    archive = backup.export_culture_site(SLUG, tmp_path / "backups" / "good.tar.gz")
    delete_tenant(media_root)

    raw = archive.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(raw[: len(raw) // 2])
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"this is not an archive" * 100)
    no_manifest = rewrite_archive(
        archive, tmp_path / "no-manifest.tar.gz", lambda n, d: None if n == "manifest.json" else d
    )
    bad_dump = rewrite_archive(
        archive, tmp_path / "bad-dump.tar.gz", lambda n, d: b"PGDMP garbage" if n == "schema.dump" else d
    )
    bad_version = rewrite_archive(
        archive,
        tmp_path / "bad-version.tar.gz",
        lambda n, d: json.dumps({**json.loads(d), "format_version": 99}).encode() if n == "manifest.json" else d,
    )

    def evil(name, data):
        if name == "manifest.json":
            return json.dumps(
                {**json.loads(data), "site": {**json.loads(data)["site"], "schema_name": 'x"; DROP'}}
            ).encode()
        return data

    bad_slug = rewrite_archive(archive, tmp_path / "bad-slug.tar.gz", evil)

    for broken in (truncated, garbage, no_manifest, bad_dump, bad_version, bad_slug, tmp_path / "missing.tar.gz"):
        with pytest.raises(services.ProvisioningError) as excinfo:
            backup.restore_culture_site(broken)
        assert set(excinfo.value.message_dict) == {"archive"}, broken.name
        assert_nothing_left(media_root)


def test_archive_from_another_code_version_is_refused(site, media_root, tmp_path):
    archive = backup.export_culture_site(SLUG, tmp_path / "backups")
    delete_tenant(media_root)

    def with_migrations(change):
        def rewrite(name, data):
            if name != "manifest.json":
                return data
            manifest = json.loads(data)
            return json.dumps({**manifest, "migrations": change(manifest["migrations"])}).encode()

        return rewrite

    newer = rewrite_archive(
        archive, tmp_path / "newer.tar.gz", with_migrations(lambda m: m + ["cms_pages.9999_future"])
    )
    older = rewrite_archive(archive, tmp_path / "older.tar.gz", with_migrations(lambda m: m[:-1]))
    for other in (newer, older):
        with pytest.raises(services.ProvisioningError) as excinfo:
            backup.restore_culture_site(other)
        assert "不同的代码版本" in excinfo.value.message_dict["migrations"][0]
        assert_nothing_left(media_root)


def test_restore_into_missing_parent_or_taken_domain_is_refused(site, media_root, tmp_path):
    archive = backup.export_culture_site(SLUG, tmp_path / "backups")
    delete_tenant(media_root)
    no_parent = rewrite_archive(
        archive,
        tmp_path / "no-parent.tar.gz",
        lambda n, d: (
            json.dumps({**json.loads(d), "site": {**json.loads(d)["site"], "parent": "nowhere"}}).encode()
            if n == "manifest.json"
            else d
        ),
    )
    with pytest.raises(services.ProvisioningError) as excinfo:
        backup.restore_culture_site(no_parent)
    assert "nowhere" in excinfo.value.message_dict["parent"][0]

    Domain.objects.create(domain=HOST, tenant=CultureSite.objects.get(schema_name="zhejiang"), is_primary=False)
    with pytest.raises(services.ProvisioningError) as excinfo:
        backup.restore_culture_site(archive)
    assert HOST in excinfo.value.message_dict["domains"][0]
    Domain.objects.filter(domain=HOST).delete()
    assert_nothing_left(media_root)


def test_failure_after_the_schema_was_restored_undoes_everything(site, media_root, tmp_path, client, monkeypatch):
    publish_title("导出时的标题")
    save_media("images/x.txt", b"exported")
    archive = backup.export_culture_site(SLUG, tmp_path / "backups")
    publish_title("导出之后的标题")
    save_media("images/x.txt", b"after export")

    def broken_rows(manifest, parent):
        assert schema_exists(SLUG)  # the dump was restored when this fails
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(backup, "_save_rows", broken_rows)

    # Replacing: the old tenant comes back untouched.
    with pytest.raises(RuntimeError, match="simulated failure"):
        backup.restore_culture_site(archive, replace=True)
    assert served_title(client) == "导出之后的标题"
    assert served_media(client, "images/x.txt") == b"after export"
    assert not [s for s in all_schemas() if s.startswith(f"{SLUG}__")]
    assert sorted(p.name for p in media_root.iterdir()) == [SLUG]

    # A fresh restore: nothing at all is left.
    delete_tenant(media_root)
    with pytest.raises(RuntimeError, match="simulated failure"):
        backup.restore_culture_site(archive)
    assert_nothing_left(media_root)


def test_restore_refuses_to_run_inside_a_transaction(committed_db, tmp_path):
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError, match="outside a transaction"):
        backup.restore_culture_site(tmp_path / "any.tar.gz")


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["nosuchsite", "template", "public"])
def test_exporting_an_unknown_site_is_refused(slug, tmp_path):
    with pytest.raises(services.ProvisioningError) as excinfo:
        backup.export_culture_site(slug, tmp_path)
    assert "不存在" in excinfo.value.message_dict["slug"][0]
    with pytest.raises(CommandError, match="不存在"):
        call_command("export_culture_site", slug, output=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_archive_referencing_missing_accounts_is_refused(site, media_root, tmp_path):
    """Revisions point at global accounts in the public schema; a restore cannot invent them."""
    from accounts.models import User
    from cms_pages.models import HomePage

    editor = User.objects.create_user("backupeditor", password="Backup-2026-x")
    with schema_context(SLUG):
        home = HomePage.objects.get()
        home.title = "编辑改过的标题"
        home.save_revision(user=editor).publish()
    archive = backup.export_culture_site(SLUG, tmp_path / "backups")
    delete_tenant(media_root)
    with connection.cursor() as cursor:
        # Raw: the ORM cascade would look for the tenant-side role tables in the public schema.
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [editor.pk])

    with pytest.raises(services.ProvisioningError) as excinfo:
        backup.restore_culture_site(archive)
    assert "用户账号" in excinfo.value.message_dict["archive"][0]
    assert_nothing_left(media_root)
