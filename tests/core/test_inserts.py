"""core.inserts: a new row written by a statement that decides it, as save() would write it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django_tenants.utils import schema_context

from core.inserts import mark_saved, row_insert
from notifications.models import Notification
from tests.bookings import factories as f

pytestmark = pytest.mark.django_db


def test_a_row_is_written_as_save_writes_it_with_a_column_decided_in_sql():
    with schema_context("zhejiang"):
        person = f.person("inserts_person")
        message = Notification(recipient=person, kind="placeholder", title="你好", body="正文", link="/me/")
        row = row_insert(message, "m_", expressions={"kind": "decision.kind"})
        saved = []
        post_save.connect(
            lambda sender, instance, created, **kw: saved.append((instance, created)),
            sender=Notification,
            weak=False,
            dispatch_uid="t-inserts",
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"WITH decision AS (SELECT %(kind)s::text AS kind), written AS ({row.statement('decision', returning=('kind',))})"
                    " SELECT * FROM written",
                    {**row.params, "kind": "bookings.confirmed"},
                )
                pk, kind = cursor.fetchone()
            mark_saved(message, pk)
        finally:
            post_save.disconnect(dispatch_uid="t-inserts", sender=Notification)
        stored = Notification.objects.get(pk=pk)
        assert (kind, stored.kind, stored.title, stored.recipient_id) == ("bookings.confirmed",) * 2 + (
            "你好",
            person.pk,
        )
        assert stored.created_at is not None and stored.created_at == message.created_at  # auto_now_add, as save()
        assert message.pk == pk and not message._state.adding and saved == [(message, True)]


def test_no_row_when_the_deciding_query_finds_none():
    with schema_context("zhejiang"):
        person = f.person("inserts_none")
        row = row_insert(Notification(recipient=person, kind="k", title="t"), "m_")
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH written AS ({row.statement('(SELECT 1) AS nothing WHERE false')}) SELECT count(*) FROM written",
                row.params,
            )
            assert cursor.fetchone() == (0,)
        assert not Notification.objects.filter(recipient=person).exists()


def test_a_saved_instance_is_refused():
    with schema_context("zhejiang"):
        message = Notification.objects.create(recipient=f.person("inserts_saved"), kind="k", title="t")
        with pytest.raises(ValueError, match="new rows"):
            row_insert(message, "m_")
