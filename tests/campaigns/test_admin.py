"""The admin of campaigns and live comments: who may see what, voiding votes, the word list."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from campaigns import services
from campaigns.models import Vote
from tests.campaigns.conftest import entries_of
from tests.websocket_helpers import ZHEJIANG, make_user

pytestmark = pytest.mark.django_db


def _staff(role: str):
    from roles.services import grant_role

    user = make_user(signed_in=False)
    with schema_context("zhejiang"):
        grant_role(user, role)
    return user


def test_site_admins_audit_votes_and_void_them_with_a_reason(campaign_in, client):
    campaign = campaign_in()
    one, *_ = entries_of("zhejiang", campaign)
    with schema_context("zhejiang"):
        vote = services.cast_vote(campaign, one.pk, make_user(), address="203.0.113.9")
    admin = _staff("站点管理员")
    client.force_login(admin)
    connection.set_schema_to_public()
    page = client.get(f"/admin/campaigns/audit/{campaign.pk}/", HTTP_HOST=ZHEJIANG)
    assert page.status_code == 200 and "203.0.113.0/24" in page.content.decode()
    no_reason = client.post(
        f"/admin/campaigns/audit/{campaign.pk}/void/", {"vote": [vote.pk]}, HTTP_HOST=ZHEJIANG, follow=True
    )
    assert "请填写作废原因" in no_reason.content.decode()
    done = client.post(
        f"/admin/campaigns/audit/{campaign.pk}/void/",
        {"vote": [vote.pk], "reason": "批量注册账号刷票"},
        HTTP_HOST=ZHEJIANG,
        follow=True,
    )
    assert "已作废 1 票" in done.content.decode()
    with schema_context("zhejiang"):
        kept = Vote.objects.get(pk=vote.pk)
    assert kept.void_reason == "批量注册账号刷票" and kept.voided_by_id == admin.pk


@pytest.mark.parametrize("role", ["编辑", "审核员", "成员"])
def test_other_roles_cannot_audit(campaign_in, client, role):
    campaign = campaign_in()
    client.force_login(_staff(role))
    connection.set_schema_to_public()
    answer = client.get(f"/admin/campaigns/audit/{campaign.pk}/", HTTP_HOST=ZHEJIANG)
    assert answer.status_code in (302, 403)


def test_an_admin_of_another_tenant_cannot_audit_here(campaign_in, client):
    from roles.services import grant_role

    campaign = campaign_in()
    other = make_user(signed_in=False)
    with schema_context("sichuan"):
        grant_role(other, "站点管理员")
    client.force_login(other)
    connection.set_schema_to_public()
    assert client.get(f"/admin/campaigns/audit/{campaign.pk}/", HTTP_HOST=ZHEJIANG).status_code in (302, 403)


def test_editors_list_entries_and_a_rejection_needs_a_note(campaign_in, client):
    campaign = campaign_in(entries=1)
    (entry,) = entries_of("zhejiang", campaign)
    client.force_login(_staff("编辑"))
    connection.set_schema_to_public()
    listing = client.get("/admin/campaign_entries/", HTTP_HOST=ZHEJIANG)
    assert listing.status_code == 200 and "作品1" in listing.content.decode()
    form = {
        "campaign": campaign.pk,
        "number": 1,
        "title": "作品1",
        "author": "作者1",
        "status": "rejected",
        "review_note": "",
    }
    refused = client.post(f"/admin/campaign_entries/edit/{entry.pk}/", form, HTTP_HOST=ZHEJIANG)
    assert "不通过时请填写审核意见" in refused.content.decode()
    with schema_context("zhejiang"):
        entry.refresh_from_db()
    assert entry.status == "approved"


def test_site_admins_keep_the_sensitive_word_list(client):
    from live.models import SensitiveWord

    client.force_login(_staff("站点管理员"))
    connection.set_schema_to_public()
    assert client.post("/admin/live_sensitive_words/new/", {"word": "  "}, HTTP_HOST=ZHEJIANG).status_code == 200
    client.post("/admin/live_sensitive_words/new/", {"word": "违禁词甲"}, HTTP_HOST=ZHEJIANG)
    with schema_context("zhejiang"):
        assert list(SensitiveWord.objects.values_list("word", flat=True)) == ["违禁词甲"]
    with schema_context("sichuan"):
        assert not SensitiveWord.objects.exists()
    assert client.get("/admin/live_comments/", HTTP_HOST=ZHEJIANG).status_code == 200
