"""The default roles of every tenant and how people get them (all inside one tenant's schema)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

from .models import Invitation, Membership

SITE_ADMIN = "站点管理员"
EDITOR = "编辑"
MODERATOR = "审核员"
VOLUNTEER_COORDINATOR = "志愿者管理员"
TRAINING_MANAGER = "培训管理员"
# Volunteers, trainees and the public who joined this site: no admin access.
MEMBER = "成员"
STAFF_ROLES = (SITE_ADMIN, EDITOR, MODERATOR, VOLUNTEER_COORDINATOR, TRAINING_MANAGER)
DEFAULT_ROLES = (*STAFF_ROLES, MEMBER)
INVITATION_DAYS = 7

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
_LIVE_MODERATION = [("live", "moderate_livecomment"), ("live", "view_livecomment")]
_CAMPAIGN_EDITING = [
    ("campaigns", "add_campaignentry"),
    ("campaigns", "change_campaignentry"),
    ("campaigns", "view_campaignentry"),
]
# 满意度评价 and 需求征集 (feedback/): see ratings, answer and publish them, triage demand requests.
_FEEDBACK = [("feedback", "manage_feedback"), ("feedback", "view_rating"), ("feedback", "view_demandrequest")]
# 在线培训: assign, report, import (manage_training) and author courses in the admin (training.wagtail_hooks).
# No delete_course: a course with learners is withdrawn (已下架), its hours and certificates stay.
_TRAINING_AUTHORING = [
    ("training", "manage_training"),
    *[("training", f"{action}_{model}") for model in ("course", "quiz") for action in ("add", "change", "view")],
    *[
        ("training", f"{action}_{model}")
        for model in ("chapter", "question", "traininggroup")
        for action in ("add", "change", "delete", "view")
    ],
]
_MODEL_PERMS = {
    SITE_ADMIN: [
        ("wagtailadmin", "access_admin"),
        ("themes", "change_branding"),
        ("roles", "manage_members"),
        ("wagtailcore", "add_locale"),
        ("wagtailcore", "change_locale"),
        ("wagtailcore", "add_site"),
        ("wagtailcore", "change_site"),
        # 国家平台对接: status, delivery log, dead letters (retry), subscriptions, featuring.
        ("federation", "view_record"),
        ("federation", "change_record"),
        ("federation", "view_deliveryattempt"),
        ("federation", "view_outboxentry"),
        ("federation", "change_outboxentry"),
        ("federation", "view_subscription"),
        ("federation", "add_subscription"),
        ("federation", "change_subscription"),
        # 预约管理: lists, approval, export, messages, check-in (bookings front desk).
        ("bookings", "manage_bookings"),
        ("bookings", "check_in_bookings"),
        ("bookings", "add_session"),
        ("bookings", "change_session"),
        ("bookings", "view_session"),
        ("bookings", "add_roomsettings"),
        ("bookings", "change_roomsettings"),
        ("bookings", "view_roomsettings"),
        ("bookings", "change_bookingrules"),
        *_TRAINING_AUTHORING,
        # 直播互动 and 征集投票: moderate live comments, the sensitive-word list, entries, the vote audit.
        *_LIVE_MODERATION,
        ("live", "add_sensitiveword"),
        ("live", "change_sensitiveword"),
        ("live", "delete_sensitiveword"),
        ("live", "view_sensitiveword"),
        *_CAMPAIGN_EDITING,
        ("campaigns", "view_vote"),
        ("campaigns", "audit_votes"),
        *_FEEDBACK,
        # 统计分析: the dashboard, its Excel export, and on the national site 全国统计.
        ("stats", "view_statistics"),
    ],
    EDITOR: [("wagtailadmin", "access_admin"), ("federation", "view_record"), *_CAMPAIGN_EDITING],
    MODERATOR: [
        ("wagtailadmin", "access_admin"),
        ("federation", "view_record"),
        *_LIVE_MODERATION,
        ("live", "view_sensitiveword"),
        *_CAMPAIGN_EDITING,
        *_FEEDBACK,
    ],
    VOLUNTEER_COORDINATOR: [("wagtailadmin", "access_admin")],
    TRAINING_MANAGER: [("wagtailadmin", "access_admin"), *_TRAINING_AUTHORING],
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
    ensure_review_workflow()
    return groups


REVIEW_WORKFLOW = "内容审核"
REVIEW_TASK = "审核员审核"


def ensure_review_workflow() -> None:
    """Every tenant's content review (内容审核, "谁提供、谁负责"): an editor submits, a moderator
    approves or rejects with a comment. One group-approval task for 审核员, on the whole tree.

    Wagtail's migrations create an English "Moderators approval" workflow; it becomes this one.
    """
    from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

    moderators = Group.objects.get(name=MODERATOR)
    task = (
        GroupApprovalTask.objects.filter(name=REVIEW_TASK).first()
        or GroupApprovalTask.objects.filter(groups=moderators).first()
        or GroupApprovalTask.objects.create(name=REVIEW_TASK)
    )
    if task.name != REVIEW_TASK or not task.active:
        task.name, task.active = REVIEW_TASK, True
        task.save(update_fields=["name", "active"])
    task.groups.set([moderators])
    workflow = (
        Workflow.objects.filter(name=REVIEW_WORKFLOW).first()
        or Workflow.objects.filter(workflow_tasks__task=task).first()
        or Workflow.objects.create(name=REVIEW_WORKFLOW, active=True)
    )
    if workflow.name != REVIEW_WORKFLOW or not workflow.active:
        workflow.name, workflow.active = REVIEW_WORKFLOW, True
        workflow.save(update_fields=["name", "active"])
    WorkflowTask.objects.filter(workflow=workflow).exclude(task=task).delete()
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    root = Page.get_first_root_node()
    if not WorkflowPage.objects.filter(page=root, workflow=workflow).exists():
        WorkflowPage.objects.update_or_create(page=root, defaults={"workflow": workflow})


def grant_role(user, role_name: str) -> None:
    """Give `user` a role in the current tenant (idempotent)."""
    group = Group.objects.get(name=role_name)
    Membership.objects.get_or_create(user=user, group=group)


# --- members of the current tenant ---------------------------------------------------------


def members():
    """People with any role in the current tenant; never the users of other tenants."""
    return get_user_model().objects.filter(pk__in=Membership.objects.values("user_id"))


def role_names_of(user) -> list[str]:
    return list(Membership.objects.filter(user=user).order_by("group__name").values_list("group__name", flat=True))


def join_as_member(user) -> None:
    """A person who registers on (or is invited to) a tenant becomes one of its members."""
    if not Membership.objects.filter(user=user).exists():
        grant_role(user, MEMBER)


def _check_role_names(role_names: list[str]) -> list[Group]:
    unknown = sorted(set(role_names) - set(DEFAULT_ROLES))
    if unknown:
        raise ValidationError({"roles": f"未知的角色：{'、'.join(unknown)}。"})
    return list(Group.objects.filter(name__in=role_names))


@transaction.atomic
def set_member_roles(member, role_names: list[str]) -> None:
    """Replace a member's roles in this tenant. The site keeps at least one site admin."""
    groups = _check_role_names(role_names or [MEMBER])
    if SITE_ADMIN not in role_names and Membership.objects.filter(user=member, group__name=SITE_ADMIN).exists():
        other_admins = Membership.objects.filter(group__name=SITE_ADMIN).exclude(user=member)
        if not other_admins.filter(user__is_active=True).exists():
            raise ValidationError({"roles": "本站至少需要一位站点管理员。"})
    Membership.objects.filter(user=member).exclude(group__in=groups).delete()
    for group in groups:
        Membership.objects.get_or_create(user=member, group=group)


@transaction.atomic
def remove_member(member) -> None:
    """Take every role in this tenant away from a person; the global account stays untouched."""
    set_member_roles(member, [])  # enforces the last-site-admin rule first
    Membership.objects.filter(user=member).delete()


# --- invitations ---------------------------------------------------------------------------


def invite(*, invited_by, role_names: list[str], email: str = "", mobile: str = "") -> Invitation:
    """Invite one person by email or mobile number to join this tenant with roles."""
    from accounts.crypto import blind_index
    from accounts.personal_data import mask_mobile, normalize_mobile

    email, mobile = (email or "").strip().lower(), (mobile or "").strip()
    if bool(email) == bool(mobile):
        raise ValidationError({"email": "请填写被邀请人的邮箱或手机号（二选一）。"})
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": "邮箱格式不正确。"}) from None
    if mobile:
        try:
            mobile = normalize_mobile(mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages}) from None
    groups = _check_role_names(role_names)
    if not groups:
        raise ValidationError({"roles": "请至少选择一个角色。"})
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            mobile_index=blind_index("mobile", mobile) if mobile else "",
            mobile_masked=mask_mobile(mobile) if mobile else "",
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        invitation.roles.set(groups)
    return invitation


def send_invitation(invitation: Invitation, *, link: str, site_name: str, inviter_name: str) -> None:
    """Mail an email invitation; a mobile invitation's link is handed over by the inviter."""
    if not invitation.email:
        return
    from django.core.mail import send_mail

    roles = "、".join(invitation.roles.values_list("name", flat=True))
    send_mail(
        f"邀请您加入{site_name}",
        f"您好，{inviter_name} 邀请您以“{roles}”的身份加入{site_name}。"
        f"请在 {INVITATION_DAYS} 天内打开下面的链接接受邀请：\n\n{link}\n",
        None,
        [invitation.email],
    )


@transaction.atomic
def accept_invitation(token: str, user) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None:
        raise ValidationError({"token": "邀请链接无效。"})
    if invitation.accepted_at is not None:
        raise ValidationError({"token": "这个邀请已经使用过了。"})
    if invitation.expires_at <= timezone.now():
        raise ValidationError({"token": "邀请链接已过期，请联系站点管理员重新邀请。"})
    if invitation.email and invitation.email != (user.email or "").lower():
        raise ValidationError({"token": "这个邀请发给了其他邮箱，请用被邀请的账号登录。"})
    if invitation.mobile_index and invitation.mobile_index != user.mobile_index:
        raise ValidationError({"token": "这个邀请发给了其他手机号，请用被邀请的账号登录。"})
    if invitation.mobile_index and not user.mobile_verified:
        # The link is handed over by the inviter, not texted: the number must be proven on /me/ first.
        raise ValidationError({"token": "请先在个人中心验证被邀请的手机号，再接受邀请。"})
    for group in invitation.roles.all():
        Membership.objects.get_or_create(user=user, group=group)
    Membership.objects.filter(user=user, group__name=MEMBER).exclude(group__in=invitation.roles.all()).delete()
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return invitation
