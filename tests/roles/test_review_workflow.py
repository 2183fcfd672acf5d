"""内容审核: an editor submits, a moderator approves or rejects with a comment; scheduled publishing;
an audit trail; notification links on the tenant's own host."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context
from wagtail.models import PageLogEntry

from cms_pages.models import HomePage
from core.scheduled import publish_scheduled_everywhere
from roles.services import REVIEW_TASK, REVIEW_WORKFLOW
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


def users(*names):
    return [User.objects.get(username=name) for name in names]


def test_every_tenant_has_the_review_workflow_on_its_whole_tree():
    for schema in ["national", "zhejiang", "dalian"]:
        with schema_context(schema):
            workflow = HomePage.objects.get().get_workflow()
            assert workflow.name == REVIEW_WORKFLOW and workflow.active
            [task] = [t.specific for t in workflow.tasks]
            assert task.name == REVIEW_TASK
            assert list(task.groups.values_list("name", flat=True)) == ["审核员"]


def test_editor_submits_moderator_approves_and_it_is_published():
    editor, moderator = users("zhejiang_editor", "zhejiang_moderator")
    User.objects.filter(pk=moderator.pk).update(email="moderator@zj.example.cn")
    moderator.refresh_from_db()
    with schema_context("zhejiang"):
        home = HomePage.objects.get()
        assert not home.permissions_for_user(editor).can_publish()
        home.title = "浙江文化云（改版）"
        revision = home.save_revision(user=editor)
        workflow_state = home.get_workflow().start(home, editor)
        task_state = workflow_state.current_task_state
        # Only moderators are offered the review actions.
        assert task_state.task.specific.get_actions(home, editor) == []
        assert {a[0] for a in task_state.task.specific.get_actions(home, moderator)} >= {"approve", "reject"}

        task_state.task.specific.on_action(task_state, moderator, "approve", comment="内容准确，同意发布")
        home.refresh_from_db()
        assert home.title == "浙江文化云（改版）" and home.live_revision_id == revision.pk
        actions = set(PageLogEntry.objects.filter(page=home).values_list("action", flat=True))
        assert {"wagtail.workflow.start", "wagtail.workflow.approve", "wagtail.publish"} <= actions

    # The moderators were told, with a link on this tenant's host.
    assert any("moderator@zj.example.cn" in m.to for m in mail.outbox)
    links = {link for m in mail.outbox for link in re.findall(r"https?://[^\s\"<]+", m.body)}
    assert links and all(link.startswith("http://zhejiang.culture.localhost") for link in links)


def test_moderator_rejects_with_a_comment_and_nothing_is_published():
    editor, moderator = users("sichuan_editor", "sichuan_moderator")
    with schema_context("sichuan"):
        home = HomePage.objects.get()
        old_title = home.title
        home.title = "未经审核的标题"
        home.save_revision(user=editor)
        workflow_state = home.get_workflow().start(home, editor)
        task_state = workflow_state.current_task_state
        task_state.task.specific.on_action(task_state, moderator, "reject", comment="请补充活动时间")
        workflow_state.refresh_from_db()
        task_state.refresh_from_db()
        assert workflow_state.status == "needs_changes"
        assert task_state.comment == "请补充活动时间"
        home.refresh_from_db()
        assert home.title == old_title


def test_review_history_is_readable_in_the_admin(client):
    editor, moderator = users("zhejiang_editor", "zhejiang_moderator")
    with schema_context("zhejiang"):
        home = HomePage.objects.get()
        home.save_revision(user=editor)
        workflow_state = home.get_workflow().start(home, editor)
        task_state = workflow_state.current_task_state
        task_state.task.specific.on_action(task_state, moderator, "approve", comment="同意")
    assert client.login(username="zhejiang_moderator", password=DEMO_PASSWORD)
    response = client.get(f"/admin/pages/{home.pk}/history/", HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 200
    html = response.content.decode()
    assert "zhejiang_moderator" in html or "浙江文化云审核员" in html


def test_scheduled_publishing_runs_in_every_tenant():
    with schema_context("dalian"):
        home = HomePage.objects.get()
        home.title = "大连文化云 · 定时发布"
        revision = home.save_revision()
        revision.approved_go_live_at = timezone.now() - timedelta(minutes=1)
        revision.save()
        assert HomePage.objects.get().title != "大连文化云 · 定时发布"
    assert "dalian" in publish_scheduled_everywhere()
    with schema_context("dalian"):
        assert HomePage.objects.get().title == "大连文化云 · 定时发布"
    with schema_context("zhejiang"):
        assert HomePage.objects.get().title != "大连文化云 · 定时发布"
