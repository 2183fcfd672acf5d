"""Exporting one tenant (schema + media) to an archive, and restoring it.

The archive is a .tar.gz holding `manifest.json` (the tenant's public-schema rows
and the migrations its schema has), `schema.dump` (pg_dump custom format of that
one schema) and `media/` (MEDIA_ROOT/<schema>/).

Restore checks the whole archive before it touches anything. A tenant being
replaced is only moved aside (schema renamed, media folder moved) until the new
one is complete, so a failed restore puts the old tenant back and a failed
first restore leaves no schema, rows or media behind.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from core.embedded_db import postgres_bin

from . import services
from .models import CultureSite, Domain
from .services import ProvisioningError
from .shared_references import drop_keys_into_public

logger = logging.getLogger(__name__)

ARCHIVE_FORMAT = "culture-cloud-tenant"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DUMP_NAME = "schema.dump"
MEDIA_NAME = "media"
REPLACED_MEDIA = "replaced-media"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


class BackupToolError(RuntimeError):
    """pg_dump / pg_restore failed for a reason that is not the operator's input."""


# --- database tools -----------------------------------------------------------------------


def _pg_env() -> dict[str, str]:
    # Connection parameters go through libpq's environment so the password never
    # shows up in the process list.
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def _run_pg_tool(tool: str, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed binary, arguments built from validated names
        [postgres_bin(tool), *args], env=_pg_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupToolError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def _database_name() -> str:
    return str(settings.DATABASES["default"]["NAME"])


def _applied_migrations(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT app || '.' || name FROM \"{schema}\".django_migrations")
        return sorted({row[0] for row in cursor.fetchall()})


# --- export -------------------------------------------------------------------------------


def _manifest_for(site: CultureSite) -> dict[str, Any]:
    domains = site.domains.order_by("-is_primary", "domain")
    return {
        "format": ARCHIVE_FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "platform_domain": settings.PLATFORM_DOMAIN,
        "site": {
            "schema_name": site.schema_name,
            "name": site.name,
            "kind": site.kind,
            "parent": site.parent.schema_name if site.parent_id else None,
            "region_code": site.region_code,
            "is_active": site.is_active,
        },
        "domains": [{"domain": d.domain, "is_primary": d.is_primary} for d in domains],
        "migrations": _applied_migrations(site.schema_name),
    }


def _archive_path(slug: str, destination: Path) -> Path:
    if destination.name.endswith(ARCHIVE_SUFFIXES):
        destination.parent.mkdir(parents=True, exist_ok=True)
        return destination
    destination.mkdir(parents=True, exist_ok=True)
    return destination / f"{slug}-{timezone.localtime():%Y%m%d-%H%M%S}.tar.gz"


def _only_files_and_folders(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    # Links and special files in a media folder are never written by the storage;
    # restore refuses them, so they are left out rather than making the archive unusable.
    if member.isfile() or member.isdir():
        return member
    logger.warning("export: skipped %s (not a regular file)", member.name)
    return None


def export_culture_site(slug: str, destination: Path) -> Path:
    """Write `<slug>-<timestamp>.tar.gz` into the folder `destination` (or to `destination` if it names
    a .tar.gz file) and return its path. The file appears only once complete."""
    with schema_context(get_public_schema_name()):
        site = services._served_site(slug)
        if not schema_exists(site.schema_name):
            raise ProvisioningError({"slug": f"站点“{slug}”的数据库模式不存在，无法导出。"})
        manifest = _manifest_for(site)

    target = _archive_path(site.schema_name, Path(destination))
    media_dir = Path(settings.MEDIA_ROOT) / site.schema_name
    with tempfile.TemporaryDirectory(prefix="culture-export-") as work:
        dump = Path(work) / DUMP_NAME
        _run_pg_tool(
            "pg_dump",
            "--format=custom",
            f"--schema={site.schema_name}",
            # Without it a vanished schema would give an empty, "successful" dump.
            "--strict-names",
            "--no-owner",
            "--no-privileges",
            f"--file={dump}",
            _database_name(),
        )
        # Written next to the target and renamed, so a crash never leaves a truncated archive under the final name.
        fd, partial_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        os.close(fd)
        partial = Path(partial_name)
        try:
            with tarfile.open(partial, "w:gz") as tar:
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size = len(data)
                info.mtime = int(timezone.now().timestamp())
                tar.addfile(info, io.BytesIO(data))
                tar.add(dump, arcname=DUMP_NAME)
                if media_dir.is_dir():
                    tar.add(media_dir, arcname=MEDIA_NAME, filter=_only_files_and_folders)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    logger.info("exported tenant %s to %s", site.schema_name, target)
    return target


# --- restore: validation ------------------------------------------------------------------


def _refuse(field: str, message: str) -> ProvisioningError:
    return ProvisioningError({field: message})


def _member_problem(members: list[tarfile.TarInfo]) -> str | None:
    names = set()
    for member in members:
        path = PurePosixPath(member.name)
        allowed = member.name in (MANIFEST_NAME, DUMP_NAME) or (path.parts and path.parts[0] == MEDIA_NAME)
        if path.is_absolute() or ".." in path.parts or not allowed:
            return f"备份文件包含不应有的内容“{member.name}”，已拒绝。"
        if not (member.isfile() or (member.isdir() and member.name not in (MANIFEST_NAME, DUMP_NAME))):
            return f"备份文件中的“{member.name}”不是普通文件，已拒绝。"
        names.add(member.name)
    for required in (MANIFEST_NAME, DUMP_NAME):
        if required not in names:
            return f"备份文件缺少 {required}，不是文化云站点备份。"
    return None


def _unpack(archive: Path, into: Path) -> dict[str, Any]:
    """Extract everything (so a truncated or corrupt archive fails here, before any change) and read the manifest."""
    if not archive.is_file():
        raise _refuse("archive", f"找不到备份文件“{archive}”。")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            problem = _member_problem(members)
            if problem is None:
                tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise _refuse("archive", "备份文件已损坏或不是 .tar.gz 格式，无法读取。") from exc
    if problem is not None:
        raise _refuse("archive", problem)
    try:
        manifest = json.loads((into / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse("archive", "备份文件中的 manifest.json 无法解析。") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise _refuse("archive", "备份文件中的 manifest.json 不是文化云站点备份的清单。")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(
            "archive",
            f"备份格式版本“{manifest.get('format_version')}”不受支持（当前支持版本 {FORMAT_VERSION}）。",
        )
    site, domains, migrations = manifest.get("site"), manifest.get("domains"), manifest.get("migrations")
    if (
        not isinstance(site, dict)
        or not isinstance(domains, list)
        or not all(isinstance(d, dict) and isinstance(d.get("domain"), str) for d in domains)
        or not isinstance(migrations, list)
        or not all(isinstance(m, str) for m in migrations)
        or not all(isinstance(site.get(k), str) for k in ("schema_name", "name", "kind", "region_code"))
    ):
        raise _refuse("archive", "备份文件中的 manifest.json 内容不完整。")
    return manifest


def _validate_rows(manifest: dict[str, Any], *, replace: bool) -> CultureSite | None:
    """Check the tenant rows can be recreated; returns the parent. Every problem is reported at once."""
    site = manifest["site"]
    slug = site["schema_name"]
    errors: dict[str, str] = {}
    # The slug ends up in SQL identifiers and paths: only names create_culture_site would accept.
    if not services.SLUG_PATTERN.match(slug) or slug in services.RESERVED_SLUGS or slug.startswith("pg"):
        raise _refuse("archive", f"备份中的站点标识“{slug}”不合法。")
    row = CultureSite.objects.filter(schema_name=slug).first()
    if row is not None and not row.is_served:
        errors["slug"] = f"“{slug}”不是普通站点，不能被覆盖。"
    elif (row is not None or schema_exists(slug)) and not replace:
        errors["slug"] = f"站点“{slug}”已存在；如要用备份覆盖它，请使用 --replace。"
    if site["kind"] not in CultureSite.SERVED_KINDS:
        errors["kind"] = f"备份中的站点级别“{site['kind']}”不能恢复。"
    elif site["kind"] == services.Kind.NATIONAL and (
        CultureSite.objects.filter(kind=services.Kind.NATIONAL).exclude(schema_name=slug).exists()
    ):
        errors["kind"] = "平台已有国家站点，只能有一个。"
    others = CultureSite.objects.exclude(schema_name=slug)
    if (
        site["region_code"]
        and others.filter(region_code=site["region_code"]).exclude(kind=services.Kind.TEMPLATE).exists()
    ):
        errors["region_code"] = f"行政区划“{site['region_code']}”已有其他站点。"

    parent = None
    parent_slug = site.get("parent")
    if parent_slug:
        parent = others.filter(schema_name=parent_slug).first()
        if parent is None:
            errors["parent"] = f"上级站点“{parent_slug}”不存在，请先创建或恢复上级站点。"

    hostnames = [d["domain"] for d in manifest["domains"]]
    taken = Domain.objects.filter(domain__in=hostnames).exclude(tenant__schema_name=slug)
    if taken.exists():
        errors["domains"] = (
            "域名" + "、".join(f"“{d}”" for d in taken.values_list("domain", flat=True)) + "已被其他站点使用。"
        )
    if errors:
        raise ProvisioningError(errors)
    return parent


def _current_tenant_migrations() -> list[str]:
    # The template is the schema migrate_schemas keeps current: what every tenant on this code has.
    if not schema_exists(services.TEMPLATE_SCHEMA):
        services.ensure_template()
    return _applied_migrations(services.TEMPLATE_SCHEMA)


def _validate_migrations(manifest: dict[str, Any]) -> None:
    archived = set(manifest["migrations"])
    current = set(_current_tenant_migrations())
    if archived == current:
        return

    def sample(names: set[str]) -> str:
        shown = sorted(names)[:5]
        return "、".join(shown) + (f" 等 {len(names)} 个" if len(names) > len(shown) else "")

    parts = []
    if current - archived:
        parts.append(f"备份缺少迁移 {sample(current - archived)}")
    if archived - current:
        parts.append(f"备份多出迁移 {sample(archived - current)}")
    raise _refuse(
        "migrations",
        "备份来自不同的代码版本，不能恢复（" + "；".join(parts) + "）。请在相同版本的平台上恢复。",
    )


def _validate_dump(dump: Path, slug: str) -> None:
    """The dump must be readable and hold exactly the tenant's schema, so restoring it cannot touch any other."""
    try:
        listing = _run_pg_tool("pg_restore", "--list", str(dump))
    except BackupToolError as exc:
        raise _refuse("archive", "备份中的数据库文件 schema.dump 已损坏，无法读取。") from exc
    schemas = set()
    for line in listing.splitlines():
        if line.startswith(";") or not line.strip():
            continue
        # "<id>; <tableoid> <oid> SCHEMA - <name> <owner>"
        fields = line.split()
        if len(fields) >= 6 and fields[3] == "SCHEMA" and fields[4] == "-":
            schemas.add(fields[5])
    if schemas != {slug}:
        raise _refuse("archive", f"备份中的数据库文件不是站点“{slug}”的数据。")


# --- restore: applying --------------------------------------------------------------------


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _save_rows(manifest: dict[str, Any], parent: CultureSite | None) -> CultureSite:
    """Create (or, when replacing, update in place so children and references keep their row) the tenant rows."""
    data = manifest["site"]
    slug = data["schema_name"]
    with transaction.atomic():
        site = CultureSite.objects.filter(schema_name=slug).first() or CultureSite(schema_name=slug)
        site.name = data["name"]
        site.kind = data["kind"]
        site.parent = parent
        site.region_code = data["region_code"]
        site.is_active = bool(data.get("is_active", True))
        site.save()
        site.domains.all().delete()
        # Primary first: Domain.save makes the first domain of a tenant primary whatever it says.
        for entry in sorted(manifest["domains"], key=lambda d: not d.get("is_primary")):
            Domain.objects.create(domain=entry["domain"], tenant=site, is_primary=bool(entry.get("is_primary")))
    return site


def _pg_restore(dump: Path) -> None:
    try:
        _run_pg_tool(
            "pg_restore",
            # One transaction: a failing restore leaves no partial schema behind.
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={_database_name()}",
            str(dump),
        )
    except BackupToolError as exc:
        # Tenant tables reference the global accounts in the public schema: an archive
        # naming accounts this platform does not have cannot be restored here.
        if "accounts_user" in str(exc) and "foreign key" in str(exc):
            raise _refuse("archive", MISSING_ACCOUNTS) from exc
        raise


MISSING_ACCOUNTS = "备份中的内容引用了本平台不存在的用户账号，无法恢复。请先在本平台恢复这些账号。"


def _user_reference_columns() -> list[tuple[str, str]]:
    """(table, column) of every tenant model's reference to the shared accounts."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    tenant_apps = set(_tenant_app_labels())
    user_model = get_user_model()
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in tenant_apps or model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            if field.is_relation and field.many_to_one and field.related_model is user_model:
                found.append((model._meta.db_table, field.column))
    return found


def _tenant_app_labels() -> list[str]:
    from django.apps import apps

    names = set(settings.TENANT_APPS)
    return [config.label for config in apps.get_app_configs() if config.name in names]


def _refuse_missing_accounts(slug: str) -> None:
    """Tenant tables reference the global accounts without database keys (decision 0026): an
    archive naming accounts this platform does not have cannot be restored here."""
    from django.contrib.auth import get_user_model

    users = get_user_model()._meta.db_table
    with connection.cursor() as cursor:
        for table, column in _user_reference_columns():
            cursor.execute("SELECT to_regclass(%s)", [f'"{slug}"."{table}"'])
            if cursor.fetchone()[0] is None:
                continue
            cursor.execute(
                f'SELECT 1 FROM "{slug}"."{table}" t WHERE t."{column}" IS NOT NULL'
                f' AND NOT EXISTS (SELECT 1 FROM public."{users}" u WHERE u.id = t."{column}") LIMIT 1'
            )
            if cursor.fetchone():
                raise _refuse("archive", MISSING_ACCOUNTS)


def _install(manifest: dict[str, Any], parent: CultureSite | None, staging: Path) -> CultureSite:
    slug = manifest["site"]["schema_name"]
    media_dir = Path(settings.MEDIA_ROOT) / slug
    aside_schema = f"{slug}__replaced_{secrets.token_hex(4)}"
    aside_media = staging / REPLACED_MEDIA
    schema_moved = media_moved = schema_free = media_placed = False
    try:
        if schema_exists(slug):
            _execute(f'ALTER SCHEMA "{slug}" RENAME TO "{aside_schema}"')
            schema_moved = True
        schema_free = True
        if media_dir.exists():
            media_dir.rename(aside_media)
            media_moved = True
        _pg_restore(staging / DUMP_NAME)
        # An archive made before decision 0026 brings the keys into the public schema back.
        drop_keys_into_public(slug)
        _refuse_missing_accounts(slug)
        if (staging / MEDIA_NAME).is_dir():
            (staging / MEDIA_NAME).rename(media_dir)
            media_placed = True
        site = _save_rows(manifest, parent)
    except BaseException:
        _undo(slug, aside_schema, aside_media, schema_moved, media_moved, schema_free, media_placed)
        raise
    if schema_moved:
        try:
            _execute(f'DROP SCHEMA "{aside_schema}" CASCADE')
        except Exception:
            logger.exception("restore of %s: could not drop the replaced schema %s", slug, aside_schema)
    return site


def _undo(
    slug: str,
    aside_schema: str,
    aside_media: Path,
    schema_moved: bool,
    media_moved: bool,
    schema_free: bool,
    media_placed: bool,
) -> None:
    """Put things back as they were; each step on its own, so one failing does not skip the others."""
    connection.set_schema_to_public()
    media_dir = Path(settings.MEDIA_ROOT) / slug
    steps = []
    if media_placed:
        steps.append(("remove restored media", lambda: shutil.rmtree(media_dir)))
    if schema_free:
        # Before pg_restore ran the name was free, so whatever holds it now is the restore's.
        steps.append(("drop restored schema", lambda: _execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')))
    if schema_moved:
        steps.append(("put back schema", lambda: _execute(f'ALTER SCHEMA "{aside_schema}" RENAME TO "{slug}"')))
    if media_moved:
        steps.append(("put back media", lambda: aside_media.rename(media_dir)))
    for name, step in steps:
        try:
            step()
        except Exception:
            logger.exception("restore of %s failed and could not %s", slug, name)


def restore_culture_site(archive: Path, *, replace: bool = False) -> CultureSite:
    """Recreate a tenant from an export_culture_site archive: schema, rows, domains and media.

    Refuses an archive that is unreadable, of another format version or of another set of migrations,
    and a tenant that exists unless `replace`. All-or-nothing.
    """
    if connection.in_atomic_block:
        raise RuntimeError(
            "restore_culture_site must run outside a transaction (schema DDL is not transactional here)."
        )
    connection.set_schema_to_public()
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    # Staged inside MEDIA_ROOT so the media folder moves into place with a rename;
    # the leading dot keeps it out of any tenant's /media/<schema>/ URLs.
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root))
    succeeded = False
    try:
        manifest = _unpack(Path(archive), staging)
        parent = _validate_rows(manifest, replace=replace)
        _validate_migrations(manifest)
        slug = manifest["site"]["schema_name"]
        _validate_dump(staging / DUMP_NAME, slug)
        site = _install(manifest, parent, staging)
        succeeded = True
    finally:
        if succeeded or not (staging / REPLACED_MEDIA).exists():
            shutil.rmtree(staging, ignore_errors=True)
        else:
            # Never delete the only copy of the old tenant's files.
            logger.error("restore failed; the replaced tenant's media are left in %s", staging / REPLACED_MEDIA)
    from core.content_types import forget_schema

    forget_schema(slug)  # a replaced schema may number its content types differently
    from .services import site_changed

    site_changed(site)
    with schema_context(slug):
        from wagtail.models import Site

        # A replaced tenant may have another root page under the same host.
        Site.clear_site_root_paths_cache()
    logger.info("restored tenant %s from %s%s", slug, archive, " (replaced)" if replace else "")
    return site
