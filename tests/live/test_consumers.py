"""Live comments over real websockets (the whole ASGI stack, the Redis channel layer)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from live.models import LiveComment, LiveMute, SensitiveWord
from tests.websocket_helpers import (
    SICHUAN,
    ZHEJIANG,
    communicator,
    hours,
    make_user,
    move_page_ids_past,
    receive_type,
    run,
)

pytestmark = pytest.mark.django_db


def _comments(schema: str, page) -> list[str]:
    with schema_context(schema):
        return list(LiveComment.objects.filter(page_id=page.pk).order_by("pk").values_list("body", flat=True))


def _grant_moderator(schema: str, user) -> None:
    from roles.services import MODERATOR, grant_role

    with schema_context(schema):
        grant_role(user, MODERATOR)


def test_a_comment_reaches_every_viewer_of_the_stream_and_is_stored(live_page_in):
    page = live_page_in()
    alice = make_user(first_name="阿丽")

    async def scenario():
        watcher = communicator(f"/ws/live/{page.pk}/")
        speaker = communicator(f"/ws/live/{page.pk}/", user=alice)
        assert (await watcher.connect())[0] and (await speaker.connect())[0]
        hello = await receive_type(watcher, "hello")
        assert hello["status"] == "live" and hello["open"] and not hello["signed_in"]
        assert (await receive_type(speaker, "hello"))["signed_in"]
        await speaker.send_to(text_data=json.dumps({"type": "comment", "body": "演出太精彩了！"}))
        seen = await receive_type(watcher, "comment")
        assert seen["comment"]["author"] == "阿丽" and seen["comment"]["body"] == "演出太精彩了！"
        assert "id" in seen["comment"] and "author_id" not in seen["comment"]
        await watcher.disconnect()
        await speaker.disconnect()

    run(scenario)()
    assert _comments("zhejiang", page) == ["演出太精彩了！"]


def test_a_newcomer_gets_the_recent_comments_and_the_viewer_count(live_page_in):
    page = live_page_in()
    bob = make_user()

    async def scenario():
        first = communicator(f"/ws/live/{page.pk}/", user=bob)
        await first.connect()
        await receive_type(first, "hello")
        await first.send_to(text_data=json.dumps({"type": "comment", "body": "第一条"}))
        await receive_type(first, "comment")
        second = communicator(f"/ws/live/{page.pk}/")
        await second.connect()
        hello = await receive_type(second, "hello")
        assert [c["body"] for c in hello["comments"]] == ["第一条"]
        assert hello["viewers"] == 2
        await second.send_to(text_data=json.dumps({"type": "ping"}))
        assert (await receive_type(second, "viewers"))["count"] == 2
        await first.disconnect()
        await second.send_to(text_data=json.dumps({"type": "ping"}))
        assert (await receive_type(second, "viewers"))["count"] == 1
        await second.disconnect()

    run(scenario)()


def test_anonymous_people_read_but_cannot_comment(live_page_in):
    page = live_page_in()

    async def scenario():
        comm = communicator(f"/ws/live/{page.pk}/")
        await comm.connect()
        await receive_type(comm, "hello")
        await comm.send_to(text_data=json.dumps({"type": "comment", "body": "匿名评论"}))
        assert (await receive_type(comm, "error"))["message"] == "请先登录后再发表评论"
        await comm.disconnect()

    run(scenario)()
    assert _comments("zhejiang", page) == []


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"start": hours(2), "end": hours(4)}, "upcoming"),
        ({"start": hours(-4), "end": hours(-2)}, "ended (past the grace period)"),
        ({"comments_enabled": False}, "comments switched off"),
        ({"start": hours(2), "end": hours(4), "broadcast": "ended", "comment_grace_minutes": 0}, "ended by staff"),
    ],
)
def test_comments_are_refused_outside_the_live_period(live_page_in, fields, state):
    page = live_page_in(**fields)
    carol = make_user()

    async def scenario():
        comm = communicator(f"/ws/live/{page.pk}/", user=carol)
        await comm.connect()
        hello = await receive_type(comm, "hello")
        assert hello["open"] is False, state
        await comm.send_to(text_data=json.dumps({"type": "comment", "body": "还能评论吗"}))
        assert (await receive_type(comm, "error"))["message"] == "直播未在进行中，评论已关闭"
        await comm.disconnect()

    run(scenario)()
    assert _comments("zhejiang", page) == []


def test_comments_stay_open_for_the_grace_period_and_when_staff_switch_it_live(live_page_in):
    just_ended = live_page_in(start=hours(-2), end=hours(-0.05), comment_grace_minutes=10)
    switched_on = live_page_in(start=hours(5), end=hours(6), broadcast="live")
    with schema_context("zhejiang"):
        assert just_ended.comments_open() and just_ended.status == "ended"
        assert switched_on.comments_open() and switched_on.status == "live"


def test_one_comment_every_three_seconds_per_person(live_page_in):
    page = live_page_in()
    dan = make_user()

    async def scenario():
        comm = communicator(f"/ws/live/{page.pk}/", user=dan)
        await comm.connect()
        await receive_type(comm, "hello")
        await comm.send_to(text_data=json.dumps({"type": "comment", "body": "一"}))
        await receive_type(comm, "comment")
        await comm.send_to(text_data=json.dumps({"type": "comment", "body": "二"}))
        error = await receive_type(comm, "error")
        assert error["message"].startswith("发言太快了")
        await comm.disconnect()

    run(scenario)()
    assert _comments("zhejiang", page) == ["一"]


def test_the_tenants_sensitive_words_stop_a_comment_in_that_tenant_only(live_page_in):
    zj_page, sc_page = live_page_in("zhejiang"), live_page_in("sichuan")
    with schema_context("zhejiang"):
        SensitiveWord.objects.create(word="刷屏广告")
    erin = make_user()

    async def scenario():
        zj = communicator(f"/ws/live/{zj_page.pk}/", user=erin)
        await zj.connect()
        await receive_type(zj, "hello")
        # Full-width letters and separators between the characters do not slip past the list.
        await zj.send_to(text_data=json.dumps({"type": "comment", "body": "快来看 刷 屏·广 告"}))
        assert (await receive_type(zj, "error"))["message"] == "评论包含不当用语，未发送，请修改后再试"
        sc = communicator(f"/ws/live/{sc_page.pk}/", host=SICHUAN, user=erin)
        await sc.connect()
        await receive_type(sc, "hello")
        await sc.send_to(text_data=json.dumps({"type": "comment", "body": "刷屏广告"}))
        await receive_type(sc, "comment")
        await zj.disconnect()
        await sc.disconnect()

    run(scenario)()
    assert _comments("zhejiang", zj_page) == []
    assert _comments("sichuan", sc_page) == ["刷屏广告"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"type": "comment", "body": "长" * 201}, "评论不能超过 200 字（现在 201 字）"),
        ({"type": "comment", "body": "   "}, "评论不能为空"),
        ({"type": "comment", "body": ["not", "text"]}, "评论内容格式不正确"),
        ({"type": "comment"}, "评论内容格式不正确"),
        ({"type": "dance"}, "不支持的消息类型"),
        ({"kind": "comment"}, "消息格式不正确"),
        (["comment"], "消息格式不正确"),
        ({"type": "hide", "id": 1}, "只有本站管理员可以管理评论"),
    ],
)
def test_bad_frames_get_a_chinese_error_and_store_nothing(live_page_in, frame, message):
    page = live_page_in()
    fay = make_user()

    async def scenario():
        comm = communicator(f"/ws/live/{page.pk}/", user=fay)
        await comm.connect()
        await receive_type(comm, "hello")
        await comm.send_to(text_data=json.dumps(frame))
        assert (await receive_type(comm, "error"))["message"] == message
        # The connection is still usable afterwards.
        await comm.send_to(text_data=json.dumps({"type": "ping"}))
        await receive_type(comm, "viewers")
        await comm.disconnect()

    run(scenario)()
    assert _comments("zhejiang", page) == []


def test_malformed_json_binary_oversized_frames_and_floods(live_page_in):
    page = live_page_in()

    async def scenario():
        comm = communicator(f"/ws/live/{page.pk}/")
        await comm.connect()
        await receive_type(comm, "hello")
        await comm.send_to(text_data="{not json")
        assert (await receive_type(comm, "error"))["message"] == "消息格式不正确"
        await comm.send_to(bytes_data=b"\x00\x01")
        assert (await receive_type(comm, "error"))["message"] == "只接受文本消息"
        await comm.send_to(text_data=json.dumps({"type": "comment", "body": "x" * 5000}))
        assert (await receive_type(comm, "error"))["message"] == "消息过长，连接已断开"
        assert (await comm.receive_output(timeout=3))["code"] == 1009

        flood = communicator(f"/ws/live/{page.pk}/")
        await flood.connect()
        await receive_type(flood, "hello")
        for _ in range(25):
            await flood.send_to(text_data=json.dumps({"type": "ping"}))
        closed = None
        while closed is None:
            output = await flood.receive_output(timeout=3)
            if output["type"] == "websocket.close":
                closed = output["code"]
        assert closed == 4408

    run(scenario)()


def test_html_in_a_comment_stays_text(live_page_in, client):
    page = live_page_in()
    gil = make_user()

    async def scenario():
        comm = communicator(f"/ws/live/{page.pk}/", user=gil)
        await comm.connect()
        await receive_type(comm, "hello")
        await comm.send_to(text_data=json.dumps({"type": "comment", "body": "<script>alert(1)</script><b>粗</b>"}))
        frame = await receive_type(comm, "comment")
        assert frame["comment"]["body"] == "<script>alert(1)</script><b>粗</b>"  # data, set with textContent
        await comm.disconnect()

    run(scenario)()
    connection.set_schema_to_public()
    html = client.get(page.url_path.removeprefix("/home"), HTTP_HOST=ZHEJIANG).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;粗&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html


def test_moderators_hide_pin_and_mute_live(live_page_in):
    page = live_page_in()
    moderator, viewer, troll = make_user(), make_user(), make_user(first_name="捣乱者")
    _grant_moderator("zhejiang", moderator)

    async def scenario():
        mod = communicator(f"/ws/live/{page.pk}/", user=moderator)
        watch = communicator(f"/ws/live/{page.pk}/", user=viewer)
        bad = communicator(f"/ws/live/{page.pk}/", user=troll)
        for comm in (mod, watch, bad):
            await comm.connect()
        assert (await receive_type(mod, "hello"))["moderator"] is True
        assert (await receive_type(watch, "hello"))["moderator"] is False
        await receive_type(bad, "hello")

        await bad.send_to(text_data=json.dumps({"type": "comment", "body": "广告广告"}))
        spam = (await receive_type(watch, "comment"))["comment"]
        await watch.send_to(text_data=json.dumps({"type": "hide", "id": spam["id"]}))
        assert (await receive_type(watch, "error"))["message"] == "只有本站管理员可以管理评论"

        await mod.send_to(text_data=json.dumps({"type": "hide", "id": spam["id"]}))
        assert (await receive_type(watch, "hidden"))["id"] == spam["id"]
        await mod.send_to(text_data=json.dumps({"type": "mute", "id": spam["id"], "minutes": 10}))
        await receive_type(mod, "muted")
        await bad.send_to(text_data=json.dumps({"type": "comment", "body": "我又来了"}))
        assert (await receive_type(bad, "error"))["message"].startswith("你已被管理员禁言")

        await watch.send_to(text_data=json.dumps({"type": "comment", "body": "主持人好"}))
        good = (await receive_type(mod, "comment"))["comment"]
        await mod.send_to(text_data=json.dumps({"type": "pin", "id": good["id"]}))
        assert (await receive_type(watch, "pinned"))["comment"]["body"] == "主持人好"
        await mod.send_to(text_data=json.dumps({"type": "mute", "id": good["id"], "minutes": 0}))
        assert (await receive_type(mod, "error"))["message"] == "禁言时长须为 1 到 1440 分钟"
        for comm in (mod, watch, bad):
            await comm.disconnect()

    run(scenario)()
    with schema_context("zhejiang"):
        hidden = LiveComment.objects.get(page_id=page.pk, body="广告广告")
        assert hidden.hidden_at is not None and hidden.hidden_by_id == moderator.pk  # kept, marked
        assert LiveMute.objects.filter(page_id=page.pk, user=troll).exists()
        assert LiveComment.objects.get(page_id=page.pk, body="主持人好").pinned_at is not None
    assert "我又来了" not in _comments("zhejiang", page)


def test_a_moderator_of_one_tenant_is_nobody_in_another(live_page_in):
    sc_page = live_page_in("sichuan")
    zj_moderator, author = make_user(), make_user()
    _grant_moderator("zhejiang", zj_moderator)

    async def scenario():
        writer = communicator(f"/ws/live/{sc_page.pk}/", host=SICHUAN, user=author)
        mod = communicator(f"/ws/live/{sc_page.pk}/", host=SICHUAN, user=zj_moderator)
        await writer.connect()
        await mod.connect()
        await receive_type(writer, "hello")
        assert (await receive_type(mod, "hello"))["moderator"] is False
        await writer.send_to(text_data=json.dumps({"type": "comment", "body": "四川的评论"}))
        comment = (await receive_type(mod, "comment"))["comment"]
        await mod.send_to(text_data=json.dumps({"type": "hide", "id": comment["id"]}))
        assert (await receive_type(mod, "error"))["message"] == "只有本站管理员可以管理评论"
        await writer.disconnect()
        await mod.disconnect()

    run(scenario)()


def test_two_tenants_interleaved_never_see_each_others_comments(live_page_in):
    """Pages with the same id in two schemas: the groups are the tenants', not the ids'."""
    zj_page = live_page_in("zhejiang")
    sc_page = live_page_in("sichuan")
    # Make both tenants have a live page with the same primary key (each schema has its own sequence).
    same_id = max(zj_page.pk, sc_page.pk) + 1
    for schema, page in (("zhejiang", zj_page), ("sichuan", sc_page)):
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('wagtailcore_page', 'id'), %s, false)", [same_id])
    zj_twin, sc_twin = live_page_in("zhejiang"), live_page_in("sichuan")
    assert zj_twin.pk == sc_twin.pk == same_id
    person = make_user()

    async def scenario():
        zj = communicator(f"/ws/live/{same_id}/", host=ZHEJIANG, user=person)
        sc = communicator(f"/ws/live/{same_id}/", host=SICHUAN, user=person)
        await zj.connect()
        await sc.connect()
        await receive_type(zj, "hello")
        await receive_type(sc, "hello")
        await zj.send_to(text_data=json.dumps({"type": "comment", "body": "浙江观众"}))
        assert (await receive_type(zj, "comment"))["comment"]["body"] == "浙江观众"
        await sc.send_to(text_data=json.dumps({"type": "comment", "body": "四川观众"}))
        frame = await receive_type(sc, "comment")
        assert frame["comment"]["body"] == "四川观众"  # its own comment, not zhejiang's
        assert await zj.receive_nothing(timeout=0.5)  # nothing of sichuan's arrives
        await zj.send_to(text_data=json.dumps({"type": "ping"}))
        assert (await receive_type(zj, "viewers"))["count"] == 1  # counted per tenant too
        await zj.disconnect()
        await sc.disconnect()

    run(scenario)()
    assert _comments("zhejiang", zj_twin) == ["浙江观众"]
    assert _comments("sichuan", sc_twin) == ["四川观众"]


@pytest.mark.parametrize(
    ("host", "origin", "why"),
    [
        ("nowhere.culture.localhost", "same", "unknown host"),
        ("culture.localhost", "same", "the platform host has no pages"),
        (ZHEJIANG, "http://evil.example", "another site's page (cross-site websocket hijacking)"),
    ],
)
def test_sockets_from_unknown_hosts_or_foreign_origins_are_refused(live_page_in, host, origin, why):
    page = live_page_in()

    async def scenario():
        comm = communicator(f"/ws/live/{page.pk}/", host=host, origin=origin)
        connected, _ = await comm.connect()
        assert not connected, why

    run(scenario)()


def test_another_tenants_page_unpublished_or_restricted_pages_are_refused(live_page_in):
    from wagtail.models import PageViewRestriction

    move_page_ids_past("sichuan")  # an id that is no page at all in zhejiang
    sc_only = live_page_in("sichuan")
    hidden = live_page_in()
    restricted = live_page_in()
    with schema_context("zhejiang"):
        hidden.unpublish()
        PageViewRestriction.objects.create(page=restricted, restriction_type=PageViewRestriction.PASSWORD, password="x")

    async def scenario():
        for page in (sc_only, hidden, restricted):
            comm = communicator(f"/ws/live/{page.pk}/", host=ZHEJIANG)
            connected, code = await comm.connect()
            if connected:  # accepted then closed: the same for the browser
                assert (await comm.receive_output(timeout=3))["code"] == 4404
            else:
                assert code == 4404

    run(scenario)()


def test_a_closed_site_refuses_sockets(live_page_in):
    page = live_page_in()
    from tenants.models import CultureSite

    connection.set_schema_to_public()
    CultureSite.objects.filter(schema_name="zhejiang").update(is_active=False)
    from django.core.cache import cache

    cache.clear()

    async def scenario():
        connected, _ = await communicator(f"/ws/live/{page.pk}/").connect()
        assert not connected

    run(scenario)()
    cache.clear()
