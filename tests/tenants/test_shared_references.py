"""Tenant schemas keep no foreign keys into the public schema (decision 0026): creating a tenant
adds no triggers to the shared accounts table, and a key a later migration adds is dropped."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.signals import schema_migrated
from django_tenants.utils import schema_context

from tenants import services
from tenants.shared_references import keys_into_public

TEMPLATE = services.TEMPLATE_SCHEMA


def _keys_within(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint con JOIN pg_class ref ON ref.oid = con.confrelid"
            " WHERE con.contype = 'f' AND con.connamespace = to_regnamespace(%s)"
            " AND ref.relnamespace = to_regnamespace(%s)",
            [schema, schema],
        )
        return cursor.fetchone()[0]


def _triggers_on_accounts() -> int:
    table = get_user_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass", [f"public.{table}"])
        return cursor.fetchone()[0]


def test_the_template_refers_to_accounts_without_database_keys(committed_db):
    assert keys_into_public(TEMPLATE) == []
    # Its own keys stay (pages to pages, bookings to sessions...): the query looks at real keys.
    assert _keys_within(TEMPLATE) > 100
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s AND column_name = 'owner_id'",
            [TEMPLATE],
        )
        assert cursor.fetchone()[0] >= 1, "the columns themselves stay (Wagtail's page owner)"


def test_a_new_tenant_adds_no_triggers_to_the_accounts_table(committed_db, client):
    before = _triggers_on_accounts()
    services.create_culture_site(
        services.NewSite(slug="ningbo", name="宁波文化云", kind="city", region_code="330200", parent_slug="zhejiang")
    )
    assert keys_into_public("ningbo") == []
    assert _triggers_on_accounts() == before

    # Relations to accounts still work through the ORM: a page's owner, a revision's author.
    from cms_pages.models import HomePage

    # Accounts are never deleted, and committed_db commits: a name of this run's own.
    author = get_user_model().objects.create_user(username=f"ningbo_{uuid.uuid4().hex[:8]}", password="x-Long-pass-1")
    with schema_context("ningbo"):
        home = HomePage.objects.get()
        home.owner = author
        home.save_revision(user=author).publish()
        home.refresh_from_db()
        assert home.owner == author
        assert home.latest_revision.user == author
    assert client.get("/", HTTP_HOST="ningbo.culture.localhost").status_code == 200


def test_a_key_into_public_added_by_a_later_migration_is_dropped_after_it(committed_db):
    table = get_user_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'ALTER TABLE "{TEMPLATE}".wagtailcore_page ADD CONSTRAINT probe_owner_fk'
            f" FOREIGN KEY (owner_id) REFERENCES public.{table} (id) DEFERRABLE INITIALLY DEFERRED"
        )
    try:
        assert keys_into_public(TEMPLATE) == [("wagtailcore_page", "probe_owner_fk")]
        before = _triggers_on_accounts()

        # What django-tenants' executors and ours send after migrating a schema.
        schema_migrated.send(sender=None, schema_name=TEMPLATE)

        assert keys_into_public(TEMPLATE) == []
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{TEMPLATE}".wagtailcore_page DROP CONSTRAINT IF EXISTS probe_owner_fk')
    assert _triggers_on_accounts() == before - 2
    assert connection.schema_name == "public", "the receiver leaves the connection where it was"
