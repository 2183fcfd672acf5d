"""The default roles of every tenant and how people get them (all inside one tenant's schema)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

SITE_ADMIN = "站点管理员"
EDITOR = "编辑"
MODERATOR = "审核员"
VOLUNTEER_COORDINATOR = "志愿者管理员"
TRAINING_MANAGER = "培训管理员"
DEFAULT_ROLES = (SITE_ADMIN, EDITOR, MODERATOR, VOLUNTEER_COORDINATOR, TRAINING_MANAGER)

# Wagtail's own migrations create these two groups; they become our editor and moderator.
_WAGTAIL_DEFAULT_GROUPS = {"Editors": EDITOR, "Moderators": MODERATOR}

_PAGE_PERMS = {
    SITE_ADMIN: ["add_page", "change_page", "publish_page", "bulk_delete_page", "lock_page", "unlock_page"],
    EDITOR: ["add_page", "change_page"],
    MODERATOR: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
}
_COLLECTION_PERMS = {
    SITE_ADMIN: [
        "add_image",
        "change_image",
        "choose_image",
        "delete_image",
        "add_document",
        "change_document",
        "choose_document",
        "delete_document",
    ],
    EDITOR: ["add_image", "change_image", "choose_image", "add_document", "change_document", "choose_document"],
    MODERATOR: ["add_image", "change_image", "choose_image", "add_document", "change_document", "choose_document"],
    VOLUNTEER_COORDINATOR: ["choose_image", "choose_document"],
    TRAINING_MANAGER: ["add_image", "choose_image", "add_document", "choose_document"],
}
_MODEL_PERMS = {
    SITE_ADMIN: [
        ("wagtailadmin", "access_admin"),
        ("themes", "change_branding"),
        ("wagtailcore", "add_site"),
        ("wagtailcore", "change_site"),
    ],
    EDITOR: [("wagtailadmin", "access_admin")],
    MODERATOR: [("wagtailadmin", "access_admin")],
    VOLUNTEER_COORDINATOR: [("wagtailadmin", "access_admin")],
    TRAINING_MANAGER: [("wagtailadmin", "access_admin")],
}


def _permissions(pairs: list[tuple[str, str]]) -> list[Permission]:
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(codename__in=[c for _, c in pairs])
    }
    return [found[pair] for pair in pairs if pair in found]


def ensure_default_roles(root_page: Page | None = None) -> dict[str, Group]:
    """Create (idempotently) the five roles of a tenant with their Wagtail permissions."""
    for old, new in _WAGTAIL_DEFAULT_GROUPS.items():
        Group.objects.filter(name=old).exclude(name=new).update(name=new)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in DEFAULT_ROLES}
    root_collection = Collection.get_first_root_node()
    page_perms = {
        p.codename: p
        for p in Permission.objects.filter(content_type__app_label="wagtailcore", codename__endswith="_page")
    }
    collection_perms = {
        p.codename: p for p in Permission.objects.filter(content_type__app_label__in=["wagtailimages", "wagtaildocs"])
    }
    for name, group in groups.items():
        group.permissions.add(*_permissions(_MODEL_PERMS.get(name, [])))
        if root_page is not None:
            GroupPagePermission.objects.filter(group=group).exclude(page=root_page).delete()
            for codename in _PAGE_PERMS.get(name, []):
                GroupPagePermission.objects.get_or_create(group=group, page=root_page, permission=page_perms[codename])
        for codename in _COLLECTION_PERMS.get(name, []):
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root_collection, permission=collection_perms[codename]
            )
    return groups


def grant_role(user, role_name: str) -> None:
    """Give `user` a role in the current tenant (idempotent)."""
    from .models import Membership

    group = Group.objects.get(name=role_name)
    Membership.objects.get_or_create(user=user, group=group)
