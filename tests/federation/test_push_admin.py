"""An editor ticks 推送到国家平台 in the Wagtail admin and publishes: the item reaches the catalogue."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from wagtail.test.utils.form_data import nested_form_data, streamfield

from federation import services
from federation.models import OutboxEntry, Record
from tenants.demo import DEMO_PASSWORD
from tests.admin_forms import form_fields

from .conftest import national_record, new_resource, quiet_push_policy

pytestmark = pytest.mark.django_db
ZHEJIANG = "zhejiang.culture.localhost"


def test_editor_ticks_push_and_publishes_through_the_admin(client):
    with schema_context("zhejiang"):
        quiet_push_policy()
        page = new_resource("非遗数字展：龙泉青瓷烧制技艺", push=False)  # a body-less page: see below
        before = Record.objects.get(uid=page.uid).version

    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    edit_url = f"/admin/pages/{page.pk}/edit/"
    form = client.get(edit_url, HTTP_HOST=ZHEJIANG)
    assert form.status_code == 200
    assert "推送到国家平台" in form.content.decode()
    data = form_fields(form.content.decode())
    # The StreamField editor is drawn by JavaScript; an empty body is what it would submit here.
    data.update(nested_form_data({"body": streamfield([])}))
    data["push_to_national"] = "on"
    data["action-publish"] = "action-publish"
    answer = client.post(edit_url, data, HTTP_HOST=ZHEJIANG)
    assert answer.status_code == 302, answer.content.decode()[:2000]

    with schema_context("zhejiang"):
        page.refresh_from_db()
        assert page.push_to_national
        record = Record.objects.get(uid=page.uid)
        assert record.version == before + 1  # the push flag is part of what the item says
        assert OutboxEntry.objects.filter(record=record, state="pending").exists()
        services.deliver_pending()
    received = national_record(page.uid)
    assert received.origin_name == "浙江文化云" and received.status == "live"
