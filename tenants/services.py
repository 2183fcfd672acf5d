"""Creating, changing and closing tenants. The only write path for CultureSite and Domain.

Creation clones the migrated template schema (ARCHITECTURE §2, tenants/clone.py): ~1 s instead of
running Wagtail's ~220 migrations, and flat with the number of tenants (decision 0023). It runs outside any transaction (PostgreSQL
refuses ALTER TABLE with pending trigger events inside one), and on any failure
it removes what it made: no schema, no domain row, no half-built site.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils.module_loading import import_string
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from core import regions, urls_util
from core.content_types import forget_schema

from . import clone
from .models import CultureSite, Domain

logger = logging.getLogger(__name__)

TEMPLATE_SCHEMA = settings.TENANT_BASE_SCHEMA
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,29}$")
HOSTNAME_PATTERN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
)
# Names that would collide with the platform's own schemas, hosts or paths.
RESERVED_SLUGS = frozenset(
    {
        "public",
        "template",
        "information_schema",
        "www",
        "admin",
        "api",
        "static",
        "media",
        "operator",
        "mail",
        "smtp",
        "oai",
        "accounts",
        "auth",
        "sso",
        "platform",
        "national_template",
        "default",
        "root",
    }
)
Kind = CultureSite.Kind


class ProvisioningError(ValidationError):
    """Bad input for a tenant operation; `message_dict` maps each field to a Chinese message."""


@dataclass
class NewSite:
    slug: str
    name: str
    kind: str
    region_code: str
    parent_slug: str | None = None
    extra_domains: list[str] = field(default_factory=list)


def platform_hostname(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_DOMAIN}"


# --- the primary public URL ---------------------------------------------------------------


def public_base_url(tenant: CultureSite | str | None = None) -> str:
    """The tenant's one primary public URL, 'scheme://host[:port]' without a trailing slash.

    `tenant`: a CultureSite, a schema name, or None for the tenant whose schema is active (the
    platform for the public schema). The host is the primary Domain; the scheme and port are
    that Domain's own, or PLATFORM_SCHEME / PLATFORM_PORT where it names none. Every absolute URL
    the platform writes about a tenant starts with this, whatever host a request came in on.
    """
    return urls_util.public_base_url(tenant)


def absolute_url(tenant: CultureSite | str | None, path: str) -> str:
    """`path` ('/news/…', a relative URL of the tenant) on the tenant's primary public URL."""
    if path.startswith(("http://", "https://")):
        return path
    return public_base_url(tenant) + ("" if path.startswith("/") else "/") + path


def is_primary_host(tenant: CultureSite, host: str) -> bool:
    """Whether a request's Host (with or without port) is the tenant's primary public host."""
    return host.split(":")[0].lower().rstrip(".") == urls_util.public_address(tenant).host


def set_primary_address(slug: str, hostname: str, *, scheme: str = "", port: int | None = None) -> Domain:
    """Make `hostname` the tenant's primary domain, served at `scheme`/`port` (empty: the platform's).

    The hostname must be one of the tenant's domains or new (it is added). The other domains stay
    and canonicalise to it. Raises ProvisioningError naming the field.
    """
    errors: dict[str, str] = {}
    hostname = (hostname or "").strip().lower().rstrip(".")
    with schema_context(get_public_schema_name()):
        site = _served_site(slug)
        if not HOSTNAME_PATTERN.match(hostname):
            errors["domain"] = f"域名“{hostname}”格式不正确。"
        elif hostname.startswith("www."):
            # requests are matched to tenants with "www." removed (django-tenants)
            errors["domain"] = f"请去掉“www.”：填写“{hostname[4:]}”，带 www. 的访问同样会到达本站。"
        elif (
            Domain.objects.filter(domain=hostname).exclude(tenant=site).exists() or hostname == settings.PLATFORM_DOMAIN
        ):
            errors["domain"] = f"域名“{hostname}”已被其他站点使用。"
        if scheme not in ("", *Domain.Scheme.values):
            errors["scheme"] = "协议只能是 http 或 https（留空则使用平台默认）。"
        if port is not None and not 1 <= int(port) <= 65535:
            errors["port"] = "端口必须在 1–65535 之间（留空则使用平台默认）。"
        if errors:
            raise ProvisioningError(errors)
        with transaction.atomic():
            Domain.objects.filter(tenant=site, is_primary=True).exclude(domain=hostname).update(is_primary=False)
            domain, _ = Domain.objects.update_or_create(
                domain=hostname,
                defaults={"tenant": site, "is_primary": True, "scheme": scheme, "port": port},
            )
    site_changed(site)
    if not hostname.endswith("." + settings.PLATFORM_DOMAIN):
        from accounts.oidc import ensure_site_client

        ensure_site_client()  # its sign-in callback follows the scheme and port
    logger.info("tenant %s: primary URL %s", slug, urls_util.public_base_url(site.schema_name))
    return domain


def set_contact_email(slug: str, email: str) -> CultureSite:
    """The tenant's contact address (OAI-PMH adminEmail); empty: the platform's sender address."""
    from django.core.validators import validate_email

    email = (email or "").strip()
    with schema_context(get_public_schema_name()):
        site = _served_site(slug)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise ProvisioningError({"contact_email": f"联系邮箱“{email}”格式不正确。"}) from None
        if site.contact_email != email:
            site.contact_email = email
            site.save(update_fields=["contact_email"])
            site_changed(site)
    return site


def contact_email(tenant: CultureSite) -> str:
    """The address to write to about this tenant: its configured contact, else the platform sender."""
    if tenant.contact_email:
        return tenant.contact_email
    match = re.search(r"<([^>]+)>", settings.DEFAULT_FROM_EMAIL)
    return (match.group(1) if match else settings.DEFAULT_FROM_EMAIL).strip()


# --- validation ---------------------------------------------------------------------------


def validate_new_site(spec: NewSite) -> CultureSite | None:
    """Check every field; raise ProvisioningError naming each bad one. Returns the parent tenant."""
    errors: dict[str, str] = {}
    slug = spec.slug
    if not SLUG_PATTERN.match(slug or ""):
        errors["slug"] = "站点标识只能由小写英文字母和数字组成，以字母开头，长度 2–30 个字符。"
    elif slug in RESERVED_SLUGS or slug.startswith("pg"):
        errors["slug"] = f"站点标识“{slug}”是平台保留名称，请换一个。"
    elif CultureSite.objects.filter(schema_name__iexact=slug).exists() or schema_exists(slug):
        errors["slug"] = f"站点标识“{slug}”已被使用。"

    name = (spec.name or "").strip()
    if not name:
        errors["name"] = "请填写站点名称。"
    elif len(name) > 100:
        errors["name"] = "站点名称不能超过 100 个字符。"

    if spec.kind not in CultureSite.SERVED_KINDS:
        errors["kind"] = "站点级别必须是 national（国家）、province（省级）、city（市级）或 county（县级）。"

    code = spec.region_code or ""
    if not regions.REGION_CODE_PATTERN.match(code):
        errors["region_code"] = "行政区划代码必须是 6 位数字（GB/T 2260），例如 330000。"
    elif regions.region_name(code) is None:
        errors["region_code"] = f"未知的行政区划代码“{code}”。"
    elif spec.kind == Kind.NATIONAL and code != regions.NATIONAL_REGION_CODE:
        errors["region_code"] = "国家站点的行政区划代码是 100000。"
    elif spec.kind == Kind.PROVINCE and not regions.is_province_code(code):
        errors["region_code"] = f"“{code}”不是省级行政区划代码（应以 0000 结尾）。"
    elif spec.kind == Kind.CITY and not regions.is_prefecture_code(code):
        errors["region_code"] = f"“{code}”不是地市级行政区划代码（应以 00 结尾，且不以 0000 结尾）。"
    elif spec.kind == Kind.COUNTY and not regions.is_county_code(code):
        errors["region_code"] = f"“{code}”不是县级行政区划代码（县级代码不以 00 结尾）。"
    elif CultureSite.objects.filter(region_code=code).exclude(kind=Kind.TEMPLATE).exists():
        errors["region_code"] = f"行政区划“{code}”已有站点。"

    parent = _validate_parent(spec, errors)
    _validate_domains(spec, errors)
    if errors:
        raise ProvisioningError(errors)
    return parent


def _validate_parent(spec: NewSite, errors: dict[str, str]) -> CultureSite | None:
    if spec.kind == Kind.NATIONAL:
        if spec.parent_slug:
            errors["parent"] = "国家站点没有上级站点。"
        elif CultureSite.objects.filter(kind=Kind.NATIONAL).exists():
            errors["kind"] = "平台已有国家站点，只能有一个。"
        return None
    if not spec.parent_slug:
        if spec.kind == Kind.CITY:
            errors["parent"] = "市级站点必须指定上级省级站点。"
        elif spec.kind == Kind.COUNTY:
            errors["parent"] = "县级站点必须指定上级站点：所属地市的市级站点（省直辖县级行政区划为省级站点）。"
        return CultureSite.objects.filter(kind=Kind.NATIONAL).first()
    parent = CultureSite.objects.filter(schema_name=spec.parent_slug).first()
    if parent is None:
        errors["parent"] = f"上级站点“{spec.parent_slug}”不存在。"
        return None
    code_ok = "region_code" not in errors
    expected, parent_code = _expected_parent(spec.kind, spec.region_code if code_ok else "")
    if expected is None:  # a county whose code is wrong: that error is enough
        return parent
    if parent.kind != expected:
        errors["parent"] = (
            f"上级站点“{parent.name}”是{parent.get_kind_display()}站点；"
            f"{dict(Kind.choices)[spec.kind]}站点的上级必须是{dict(Kind.choices)[expected]}站点。"
        )
        if spec.kind == Kind.COUNTY:
            errors["parent"] += f"（行政区划“{spec.region_code}”属于 {parent_code}）"
    elif code_ok and parent_code and parent.region_code != parent_code:
        errors["parent"] = f"行政区划“{spec.region_code}”不属于上级站点“{parent.name}”（{parent.region_code}）。"
    return parent


def _expected_parent(kind: str, code: str) -> tuple[str | None, str]:
    """The kind of parent a new site needs and the region code that parent must have ('' when
    the code is not known to be valid): a province reports to the national site, a city to its
    province, a county to its prefecture's city, or to its province when it has no prefecture
    (省直辖县级行政区划 xx90xx, districts of the municipalities); None for a county whose code is
    not valid, as its parent cannot be told."""
    if kind == Kind.PROVINCE:
        return Kind.NATIONAL, ""
    if kind == Kind.COUNTY:
        if not code:
            return None, ""
        prefecture = regions.prefecture_of(code)
        return (Kind.CITY, prefecture) if prefecture else (Kind.PROVINCE, regions.province_of(code))
    return Kind.PROVINCE, regions.province_of(code) if code else ""


def _validate_domains(spec: NewSite, errors: dict[str, str]) -> None:
    hostnames = [h.strip().lower() for h in spec.extra_domains if h.strip()]
    for hostname in hostnames:
        if not HOSTNAME_PATTERN.match(hostname):
            errors["domains"] = f"域名“{hostname}”格式不正确。"
            return
        if hostname == settings.PLATFORM_DOMAIN or Domain.objects.filter(domain=hostname).exists():
            errors["domains"] = f"域名“{hostname}”已被使用。"
            return
    if "slug" not in errors and Domain.objects.filter(domain=platform_hostname(spec.slug)).exists():
        errors["slug"] = f"域名“{platform_hostname(spec.slug)}”已被使用。"
    spec.extra_domains = hostnames


# --- the platform and the template --------------------------------------------------------


def ensure_platform_tenant() -> CultureSite:
    """The public schema's own row, so the platform domain serves the platform directory."""
    platform, _ = CultureSite.objects.get_or_create(
        schema_name=get_public_schema_name(), defaults={"name": "文化云平台", "kind": Kind.PLATFORM}
    )
    Domain.objects.get_or_create(domain=settings.PLATFORM_DOMAIN, defaults={"tenant": platform, "is_primary": True})
    return platform


def ensure_template() -> CultureSite:
    """The migrated template schema that new tenants are cloned from (kept current by migrate_schemas)."""
    template, _ = CultureSite.objects.get_or_create(
        schema_name=TEMPLATE_SCHEMA, defaults={"name": "站点模板", "kind": Kind.TEMPLATE}
    )
    if not schema_exists(TEMPLATE_SCHEMA):
        _create_schema_by_migrations(TEMPLATE_SCHEMA)
    with schema_context(TEMPLATE_SCHEMA), transaction.atomic():
        _set_up_site_content(template, hostname=f"{TEMPLATE_SCHEMA}.invalid")
    return template


def _create_schema_by_migrations(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)


def schemas_with_pending_migrations(schemas: list[str] | None = None) -> list[str]:
    """Schemas (public first, or those given) whose django_migrations lack a migration on disk:
    one query each. `migrate_schemas` uses it to skip the schemas that are current
    (tenants.migration_executor)."""
    disk = {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    with connection.cursor() as cursor:
        if schemas is None:
            schemas = [get_public_schema_name()]
            cursor.execute("SELECT to_regclass('public.tenants_culturesite')")
            if cursor.fetchone()[0] is not None:
                schemas += CultureSite.objects.exclude(schema_name=get_public_schema_name()).values_list(
                    "schema_name", flat=True
                )
        pending = []
        for schema in schemas:
            cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".django_migrations'])
            if cursor.fetchone()[0] is None:
                pending.append(schema)
                continue
            cursor.execute(f"SELECT app || '.' || name FROM \"{schema}\".django_migrations")
            if disk - {row[0] for row in cursor.fetchall()}:
                pending.append(schema)
    return pending


# --- creating a tenant --------------------------------------------------------------------


def create_culture_site(spec: NewSite, *, by_migrations: bool = False) -> CultureSite:
    """Create a tenant: its schema (cloned from the template), rows, Wagtail Site, home page, roles, branding.

    All-or-nothing: any failure removes the schema and rows this call created.
    """
    if connection.in_atomic_block:
        raise RuntimeError("create_culture_site must run outside a transaction (schema DDL is not transactional here).")
    connection.set_schema_to_public()
    if (
        SLUG_PATTERN.match(spec.slug or "")
        and not CultureSite.objects.filter(schema_name=spec.slug).exists()
        and clone.drop_interrupted(spec.slug)
    ):
        logger.warning("dropped schema %s: left by a clone whose process died midway", spec.slug)
    parent = validate_new_site(spec)
    if not by_migrations:
        ensure_template()

    created_schema = created_row = False
    try:
        if by_migrations:
            _create_schema_by_migrations(spec.slug)
        else:
            clone.clone_schema(TEMPLATE_SCHEMA, spec.slug)
        created_schema = True
        forget_schema(spec.slug)  # a schema of this name may have existed earlier in this process
        with transaction.atomic():
            site = CultureSite(
                schema_name=spec.slug,
                name=spec.name.strip(),
                kind=spec.kind,
                parent=parent,
                region_code=spec.region_code,
            )
            site.save()
            Domain.objects.create(domain=platform_hostname(spec.slug), tenant=site, is_primary=True)
            for hostname in spec.extra_domains:
                Domain.objects.create(domain=hostname, tenant=site, is_primary=False)
        created_row = True
        with schema_context(spec.slug), transaction.atomic():
            _set_up_site_content(site, hostname=platform_hostname(spec.slug))
    except BaseException:
        _remove_partial_site(spec.slug, drop_schema=created_schema, delete_row=created_row)
        raise
    site_changed(site)
    _link_federation(site)
    if spec.extra_domains:
        from accounts.oidc import ensure_site_client

        ensure_site_client()  # its own domain signs people in over OIDC: register the callback
    logger.info("created tenant %s (%s)", spec.slug, "migrations" if by_migrations else "clone")
    return site


def _link_federation(site: CultureSite) -> None:
    """A new province, city or county reports to the national site; a new national site links them all."""
    from federation.services import link_site_to_national

    if site.kind == Kind.NATIONAL:
        for other in CultureSite.objects.filter(kind__in=CultureSite.REPORTING_KINDS):
            link_site_to_national(other)
    else:
        link_site_to_national(site)


def _set_up_site_content(site: CultureSite, hostname: str) -> None:
    """Inside the tenant's schema: Wagtail Site, home page, roles and branding (idempotent)."""
    from wagtail.models import Site

    from cms_pages.services import ensure_home_page
    from roles.services import ensure_default_roles
    from themes.services import ensure_branding

    _ensure_site_locales()
    home = ensure_home_page(title=site.name)
    wagtail_site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    wagtail_site.hostname = hostname
    wagtail_site.port = 80
    wagtail_site.site_name = site.name
    wagtail_site.root_page = home
    wagtail_site.save()
    Site.objects.exclude(pk=wagtail_site.pk).delete()
    ensure_default_roles(root_page=home)
    ensure_branding(wagtail_site, site.name)


def sync_default_roles() -> list[str]:
    """Bring the default roles of the template and every tenant up to date (after an upgrade that
    added permissions). Idempotent; returns the schemas it visited."""
    from wagtail.models import Site

    from roles.services import ensure_default_roles

    schemas = list(
        CultureSite.objects.filter(kind__in=[*CultureSite.SERVED_KINDS, Kind.TEMPLATE]).values_list(
            "schema_name", flat=True
        )
    )
    for schema in schemas:
        with schema_context(schema), transaction.atomic():
            site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
            ensure_default_roles(root_page=site.root_page if site else None)
    return schemas


def refresh_search_indexes(stdout=None) -> list[str]:
    """Rebuild the search index of every site indexed with an older segmentation
    (core.chinese.INDEX_VERSION); run by `make run` and the `refresh_search_indexes` command.

    One query when every site is current; a site is marked current only after its index is
    rebuilt, so an interrupted run continues where it stopped. Returns the schemas rebuilt.
    """
    from core.chinese import INDEX_VERSION

    stale = list(
        CultureSite.objects.filter(kind__in=CultureSite.SERVED_KINDS, search_index_version__lt=INDEX_VERSION)
        .order_by("region_code", "schema_name")
        .values_list("schema_name", flat=True)
    )
    for schema in stale:
        if stdout is not None:
            stdout.write(f"rebuilding the search index of {schema}...")
        with schema_context(schema):
            call_command("wagtail_update_index", verbosity=0)
            for path in settings.CULTURE_SEARCH_REINDEXERS:  # feature apps' own search text
                import_string(path)()
        CultureSite.objects.filter(schema_name=schema).update(search_index_version=INDEX_VERSION)
    return stale


def _ensure_site_locales() -> None:
    """Every site starts with zh-Hans (the default), English and Traditional Chinese."""
    from wagtail.models import Locale

    for code in settings.DEFAULT_SITE_LANGUAGES:
        Locale.objects.get_or_create(language_code=code)


def _remove_partial_site(slug: str, *, drop_schema: bool, delete_row: bool) -> None:
    forget_schema(slug)
    connection.set_schema_to_public()
    if delete_row:
        CultureSite.objects.filter(schema_name=slug).delete()
    if drop_schema:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE')


# --- changing a tenant --------------------------------------------------------------------


def _served_site(slug: str) -> CultureSite:
    site = CultureSite.objects.filter(schema_name=slug, kind__in=CultureSite.SERVED_KINDS).first()
    if site is None:
        raise ProvisioningError({"slug": f"站点“{slug}”不存在。"})
    return site


def set_site_active(slug: str, active: bool) -> CultureSite:
    """Close (or reopen) a tenant: closed sites answer every request with a "site closed" page."""
    with schema_context(get_public_schema_name()):
        site = _served_site(slug)
        if site.is_active != active:
            site.is_active = active
            site.save(update_fields=["is_active"])
            site_changed(site)
            logger.info("tenant %s %s", slug, "reopened" if active else "closed")
    return site


def site_changed(site: CultureSite) -> None:
    """Drop what is cached about a tenant: its host lookup and every site switcher."""
    from core.middleware import forget_cached_hosts
    from themes.services import forget_site_switcher

    with schema_context(get_public_schema_name()):
        forget_cached_hosts(Domain.objects.filter(tenant=site).values_list("domain", flat=True))
    urls_util.forget_public_addresses([site.schema_name])
    forget_site_switcher()
