"""Restricted content and federation: a page under a view restriction never travels; restricting a
page that was pushed withdraws it (upstream and from subscribers) like an unpublish, lifting the
restriction pushes it again."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django_tenants.utils import schema_context
from wagtail.models import PageViewRestriction

from cms_pages import models as m
from federation import envelope as env
from federation import pull, services, sync
from federation.models import OutboxEntry, Peer, Record, Subscription

from .conftest import national_record, new_resource

pytestmark = pytest.mark.django_db

NATIONAL = "national.culture.localhost"
SECRET = "内部评审稿"


@pytest.fixture(autouse=True)
def _empty_caches():
    caches["pages"].clear()
    caches["default"].clear()
    yield
    caches["pages"].clear()
    caches["default"].clear()


def restrict(page, restriction_type="login") -> PageViewRestriction:
    return PageViewRestriction.objects.create(page=page, restriction_type=restriction_type)


def test_a_page_restricted_before_its_first_publish_is_never_pushed(zhejiang):
    index = m.ResourceIndexPage.objects.get()
    page = m.ResourcePage(title=f"{SECRET}资源", kind="article", category="art", push_to_national=True, live=False)
    index.add_child(instance=page)
    restrict(page)
    page.save_revision().publish()
    assert not OutboxEntry.objects.exists()
    services.deliver_pending()
    assert national_record(page.uid) is None


def test_restricting_a_pushed_page_withdraws_it_without_its_content_and_lifting_it_pushes_it_again(zhejiang, client):
    page = new_resource(f"{SECRET}越剧")
    services.deliver_pending()
    assert national_record(page.uid).status == "live"

    restriction = restrict(page)
    services.deliver_pending()
    received = national_record(page.uid)
    assert received.status == "unpublished"
    # Nothing of the page is left upstream: not its title, summary, body, files or address.
    assert SECRET not in str(received.envelope) and received.title == env.WITHHELD_TITLE
    assert received.envelope["assets"] == [] and received.canonical_url == ""
    assert client.get(f"/catalogue/{page.uid}/", HTTP_HOST=NATIONAL).status_code == 404
    assert SECRET not in client.get("/catalogue/", HTTP_HOST=NATIONAL).content.decode()
    with schema_context("zhejiang"):  # the client's request moved the connection to national
        local = Record.objects.get(uid=page.uid)  # this site's own feed and OAI-PMH say the same
        assert local.status == "unpublished" and SECRET not in str(local.envelope)

        restriction.delete()
        services.deliver_pending()
    received = national_record(page.uid)
    assert received.status == "live" and received.title == f"{SECRET}越剧"


def test_a_restriction_on_a_section_withdraws_every_item_below_it(zhejiang):
    first, second = new_resource(f"{SECRET}一"), new_resource(f"{SECRET}二")
    services.deliver_pending()
    restrict(m.ResourceIndexPage.objects.get())
    services.deliver_pending()
    assert national_record(first.uid).status == national_record(second.uid).status == "unpublished"


def test_switching_a_push_policy_on_skips_restricted_pages(zhejiang):
    page = new_resource(f"{SECRET}旧资源", push=False)
    restrict(page)
    services.push_existing(["resource"])
    services.deliver_pending()
    assert national_record(page.uid) is None


def test_federation_sync_withdraws_items_restricted_without_a_signal(zhejiang):
    page = new_resource(f"{SECRET}遗留")
    services.deliver_pending()
    # A restriction written by a path that sends no signal (raw SQL, a restore, an old version).
    PageViewRestriction.objects.bulk_create([PageViewRestriction(page=page, restriction_type="login")])
    assert Record.objects.get(uid=page.uid).status == "live"
    sync.sync_here(pull=False)
    assert national_record(page.uid).status == "unpublished"


# --- pull: a national private page never becomes public in a province ---------------------------


def _subscribe() -> Subscription:
    return pull.subscribe(
        peer=Peer.objects.get(is_uplink=True),
        set_spec="national-resources",
        parent_page=m.ResourceIndexPage.objects.get(),
        auto_publish=True,
    )


def test_a_national_private_page_is_never_pulled(zhejiang):
    with schema_context("national"):
        page = new_resource(f"{SECRET}国家内部", push=False)
        restrict(page)
        page.save_revision().publish()
    pull.sync_subscription(_subscribe())
    assert not m.ResourcePage.objects.filter(uid=page.uid).exists()
    assert not Record.objects.filter(uid=page.uid).exists()


def test_restricting_a_national_page_withdraws_the_pulled_copy(zhejiang, client):
    with schema_context("national"):
        page = new_resource(f"{SECRET}国家资源", push=False)
    subscription = _subscribe()
    pull.sync_subscription(subscription)
    copy = m.ResourcePage.objects.get(uid=page.uid)
    assert copy.live

    with schema_context("national"):
        restrict(m.ResourcePage.objects.get(uid=page.uid))
    pull.sync_subscription(subscription)
    copy.refresh_from_db()
    assert not copy.live
    assert SECRET not in client.get("/", HTTP_HOST="zhejiang.culture.localhost").content.decode()


def test_deleting_or_unpublishing_a_restricted_page_sends_nothing_of_it(zhejiang):
    page = new_resource(f"{SECRET}待删")
    services.deliver_pending()
    restrict(page)
    page.unpublish()
    services.deliver_pending()
    assert SECRET not in str(national_record(page.uid).envelope)
    uid = page.uid
    m.ResourcePage.objects.get(pk=page.pk).delete()
    services.deliver_pending()
    tombstone = national_record(uid)
    assert tombstone.status == "deleted" and SECRET not in str(tombstone.envelope)
