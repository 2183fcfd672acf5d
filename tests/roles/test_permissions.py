"""Roles are per tenant: an editor of 浙江 has nothing in 四川, whatever the order of checks."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page, Workflow
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permission_policies.collections import CollectionOwnershipPermissionPolicy
from wagtail.permission_policies.pages import PagePermissionPolicy

from cms_pages.models import HomePage

pytestmark = pytest.mark.django_db


def permissions_in(schema: str, user) -> dict[str, bool]:
    with schema_context(schema):
        home = HomePage.objects.get()
        image_policy = CollectionOwnershipPermissionPolicy(get_image_model(), owner_field_name="uploaded_by_user")
        document_policy = CollectionOwnershipPermissionPolicy(get_document_model(), owner_field_name="uploaded_by_user")
        return {
            "admin": user.has_perm("wagtailadmin.access_admin"),
            "page_edit": home.permissions_for_user(user).can_edit(),
            "page_add": home.permissions_for_user(user).can_add_subpage(),
            "page_publish": home.permissions_for_user(user).can_publish(),
            "explorable": PagePermissionPolicy().explorable_instances(user).filter(pk=home.pk).exists(),
            "image": image_policy.user_has_permission(user, "add"),
            "document": document_policy.user_has_permission(user, "add"),
            "snippet_locale": user.has_perm("wagtailcore.change_locale"),
            "workflow": ModelPermissionPolicy(Workflow).user_has_any_permission(user, ["add", "change"]),
            "branding": user.has_perm("themes.change_branding"),
            "members": user.has_perm("roles.manage_members"),
            "sites": user.has_perm("wagtailcore.change_site"),
        }


NOTHING = dict.fromkeys(
    [
        "admin",
        "page_edit",
        "page_add",
        "page_publish",
        "explorable",
        "image",
        "document",
        "snippet_locale",
        "workflow",
        "branding",
        "members",
        "sites",
    ],
    False,
)


@pytest.mark.parametrize("order", [("zhejiang", "sichuan", "zhejiang"), ("sichuan", "zhejiang", "sichuan")])
def test_editor_permissions_never_cross_tenants_on_one_user_object(order):
    editor = get_user_model().objects.get(username="zhejiang_editor")  # one object, reused
    results = {schema: [] for schema in set(order)}
    for schema in order:
        results[schema].append(permissions_in(schema, editor))
    for zhejiang in results["zhejiang"]:
        assert zhejiang["admin"] and zhejiang["page_edit"] and zhejiang["explorable"]
        assert zhejiang["image"] and zhejiang["document"]
        assert not zhejiang["page_publish"] and not zhejiang["members"] and not zhejiang["branding"]
    for sichuan in results["sichuan"]:
        assert sichuan == NOTHING


def test_site_admin_of_one_tenant_has_nothing_in_another():
    admin = get_user_model().objects.get(username="zhejiang_admin")
    zhejiang = permissions_in("zhejiang", admin)
    assert {k: zhejiang[k] for k in ["admin", "page_publish", "image", "document", "branding", "members", "sites"]} == {
        "admin": True,
        "page_publish": True,
        "image": True,
        "document": True,
        "branding": True,
        "members": True,
        "sites": True,
    }
    assert permissions_in("sichuan", admin) == NOTHING
    assert permissions_in("national", admin) == NOTHING


def test_moderator_can_publish_only_in_own_tenant():
    moderator = get_user_model().objects.get(username="sichuan_moderator")
    assert permissions_in("sichuan", moderator)["page_publish"]
    assert permissions_in("zhejiang", moderator) == NOTHING


def test_platform_operator_is_admin_everywhere():
    operator = get_user_model().objects.get(username="operator")
    for schema in ["national", "zhejiang", "dalian"]:
        assert permissions_in(schema, operator)["admin"]


def test_admin_access_over_http_follows_the_host(client):
    from tenants.demo import DEMO_PASSWORD

    assert client.login(username="zhejiang_editor", password=DEMO_PASSWORD)
    assert client.get("/admin/", HTTP_HOST="zhejiang.culture.localhost").status_code == 200
    response = client.get("/admin/", HTTP_HOST="sichuan.culture.localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    with schema_context("sichuan"):
        page_id = Page.objects.get(depth=2).pk
    assert client.get(f"/admin/pages/{page_id}/edit/", HTTP_HOST="sichuan.culture.localhost").status_code == 302


def test_sync_default_roles_restores_permissions_after_an_upgrade(committed_db):
    from django.contrib.auth.models import Group, Permission

    from tenants.services import sync_default_roles

    with schema_context("zhejiang"):
        group = Group.objects.get(name="站点管理员")
        group.permissions.remove(Permission.objects.get(codename="manage_members"))
    assert "zhejiang" in sync_default_roles()
    with schema_context("zhejiang"):
        assert group.permissions.filter(codename="manage_members").exists()
