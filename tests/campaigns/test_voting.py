"""Casting votes: the daily limits, the windows, real names, weighting, voiding, the HTTP views."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns import services
from campaigns.models import Vote
from tests.campaigns.conftest import entries_of
from tests.websocket_helpers import SICHUAN, ZHEJIANG, hours, make_user, move_page_ids_past

pytestmark = pytest.mark.django_db


def _vote(campaign, entry, user, **kwargs):
    with schema_context("zhejiang"):
        return services.cast_vote(campaign, entry.pk, user, **kwargs)


def _refusal(campaign, entry_id, user, **kwargs) -> str:
    with schema_context("zhejiang"), pytest.raises(services.VoteRefused) as refused:
        services.cast_vote(campaign, entry_id, user, **kwargs)
    return refused.value.message


def _counts(campaign) -> dict[int, int]:
    with schema_context("zhejiang"):
        return {row.number: row.public_votes for row in services.tally(campaign)}


def test_two_votes_a_day_then_a_clear_refusal_and_two_more_tomorrow(campaign_in):
    campaign = campaign_in()
    one, two, three = entries_of("zhejiang", campaign)
    voter = make_user()
    _vote(campaign, one, voter)
    _vote(campaign, two, voter)
    assert _refusal(campaign, three.pk, voter) == "今天的 2 票已经投完，明天再来吧"
    assert _counts(campaign) == {1: 1, 2: 1, 3: 0}
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    _vote(campaign, three, voter, now=tomorrow)
    assert _counts(campaign) == {1: 1, 2: 1, 3: 1}


def test_the_day_is_chinas_day_whatever_the_server_clock_says(campaign_in):
    campaign = campaign_in()
    one, two, _ = entries_of("zhejiang", campaign)
    voter = make_user()
    # 23:30 and 00:30 China Standard Time are two days, though both are 15:30/16:30 UTC of one.
    late = datetime.datetime(2026, 12, 2, 15, 30, tzinfo=datetime.UTC)
    with schema_context("zhejiang"):
        campaign.start, campaign.end = late - datetime.timedelta(days=1), late + datetime.timedelta(days=1)
        services.cast_vote(campaign, one.pk, voter, now=late)
        services.cast_vote(campaign, two.pk, voter, now=late)
        services.cast_vote(campaign, one.pk, voter, now=late + datetime.timedelta(hours=1))
        days = sorted({v.day for v in Vote.objects.filter(voter=voter)})
    assert days == [datetime.date(2026, 12, 2), datetime.date(2026, 12, 3)]


def test_one_vote_per_entry_per_day_by_default(campaign_in):
    campaign = campaign_in()
    one, *_ = entries_of("zhejiang", campaign)
    voter = make_user()
    _vote(campaign, one, voter)
    assert _refusal(campaign, one.pk, voter) == "今天已经为这个作品投过票了，可以投给其他作品"
    assert _counts(campaign)[1] == 1


def test_the_database_itself_refuses_a_third_vote_in_a_day(campaign_in):
    """Even a write that skips the service cannot take a third slot, or the same slot twice."""
    campaign = campaign_in()
    one, two, three = entries_of("zhejiang", campaign)
    voter = make_user()
    _vote(campaign, one, voter)
    _vote(campaign, two, voter)
    with schema_context("zhejiang"):
        base = {
            "campaign": campaign,
            "voter": voter,
            "kind": "public",
            "day": timezone.localdate(),
            "day_limit": 2,
            "entry_limit": 1,
            "entry": three,
        }
        for slot in (2, 3):  # 2: taken; 3: above the day's limit
            with pytest.raises(IntegrityError), transaction.atomic():
                Vote.objects.create(slot=slot, entry_slot=1, **base)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": hours(2), "end": hours(30)}, "投票尚未开始"),
        ({"start": hours(-30), "end": hours(-2)}, "投票已截止"),
    ],
)
def test_votes_outside_the_voting_window_are_refused(campaign_in, fields, message):
    campaign = campaign_in(**fields)
    one, *_ = entries_of("zhejiang", campaign)
    assert _refusal(campaign, one.pk, make_user()).startswith(message)
    assert _counts(campaign)[1] == 0


def test_real_name_campaigns_need_the_real_name_data(campaign_in):
    from accounts.services import set_personal_data

    campaign = campaign_in(real_name_required=True)
    one, *_ = entries_of("zhejiang", campaign)
    anonymous_ish = make_user()
    assert _refusal(campaign, one.pk, anonymous_ish) == "本活动须实名投票，请先在个人中心填写姓名和身份证号"
    set_personal_data(anonymous_ish, real_name="王小明", id_number="11010519491231002X")
    _vote(campaign, one, anonymous_ish)
    assert _counts(campaign)[1] == 1


@pytest.mark.parametrize("entry_id", [None, "", "abc", 0, -1, 2**70, True, "1; DROP TABLE", 999999])
def test_forged_entry_ids_are_refused(campaign_in, entry_id):
    campaign = campaign_in()
    assert _refusal(campaign, entry_id, make_user()) == "没有找到这个作品"


def test_another_campaigns_or_tenants_entry_is_refused(campaign_in):
    campaign, other = campaign_in(), campaign_in()
    sichuan = campaign_in("sichuan")
    (other_entry, *_), (sc_entry, *_) = entries_of("zhejiang", other), entries_of("sichuan", sichuan)
    voter = make_user()
    assert _refusal(campaign, other_entry.pk, voter) == "没有找到这个作品"
    # Sichuan's entry id means nothing in zhejiang's schema (or another entry of zhejiang's).
    with schema_context("zhejiang"):
        zj_ids = set(services.CampaignEntry.objects.filter(campaign=campaign).values_list("pk", flat=True))
    if sc_entry.pk not in zj_ids:
        assert _refusal(campaign, sc_entry.pk, voter) == "没有找到这个作品"


def test_voided_votes_are_kept_marked_and_stop_counting_but_keep_their_slot(campaign_in):
    campaign = campaign_in()
    one, two, _ = entries_of("zhejiang", campaign)
    voter, staff = make_user(), make_user()
    vote = _vote(campaign, one, voter)
    _vote(campaign, two, voter)
    with schema_context("zhejiang"):
        with pytest.raises(services.VoteRefused) as no_reason:
            services.void_votes(campaign, [vote.pk], staff, "  ")
        assert no_reason.value.message == "请填写作废原因"
        assert services.void_votes(campaign, [vote.pk], staff, "同一网段集中刷票") == 1
        assert services.void_votes(campaign, [vote.pk], staff, "再作废一次") == 0  # twice: nothing changes
        kept = Vote.objects.get(pk=vote.pk)
    assert kept.voided_at and kept.voided_by_id == staff.pk and kept.void_reason == "同一网段集中刷票"
    assert _counts(campaign) == {1: 0, 2: 1, 3: 0}
    assert _refusal(campaign, entries_of("zhejiang", campaign)[2].pk, voter).startswith("今天的 2 票已经投完")


def test_expert_votes_are_weighted_against_the_public(campaign_in):
    from roles.services import grant_role

    campaign = campaign_in(expert_weight=40, daily_vote_limit=3)
    one, two, three = entries_of("zhejiang", campaign)
    expert = make_user()
    with schema_context("zhejiang"):
        from django.contrib.auth.models import Group, Permission

        jury, _ = Group.objects.get_or_create(name="评审专家")
        jury.permissions.add(Permission.objects.get(codename="cast_expert_vote"))
        grant_role(expert, "评审专家")
    for _ in range(3):
        _vote(campaign, one, make_user())
    _vote(campaign, two, make_user())
    assert _vote(campaign, three, expert).kind == "expert"
    with schema_context("zhejiang"):
        rows = {row.number: row for row in services.tally(campaign)}
    # one: 60% × 3/4 = 45; three: 40% × 1/1 = 40; two: 60% × 1/4 = 15.
    assert [round(rows[n].score, 2) for n in (1, 2, 3)] == [45.0, 15.0, 40.0]
    with schema_context("zhejiang"):
        assert [row.number for row in services.tally(campaign)] == [1, 3, 2]


def test_daily_tallies_show_the_count_as_of_midnight(campaign_in):
    campaign = campaign_in(tally_mode="daily")
    one, *_ = entries_of("zhejiang", campaign)
    _vote(campaign, one, make_user())
    with schema_context("zhejiang"):
        rows, as_of = services.published_tally(campaign)
        assert as_of is not None and {r.number: r.public_votes for r in rows}[1] == 0
        tomorrow = timezone.now() + datetime.timedelta(days=1)
        rows, _ = services.published_tally(campaign, now=tomorrow)
        assert {r.number: r.public_votes for r in rows}[1] == 1


def test_the_audit_shows_networks_with_many_accounts(campaign_in):
    campaign = campaign_in(daily_vote_limit=1)
    one, *_ = entries_of("zhejiang", campaign)
    for n in range(6):
        _vote(campaign, one, make_user(), address=f"203.0.113.{n + 10}")
    _vote(campaign, one, make_user(), address="198.51.100.7")
    with schema_context("zhejiang"):
        networks = services.suspicious_networks(campaign)
        fresh = services.suspicious_accounts(campaign)
        stored = set(Vote.objects.filter(campaign=campaign).values_list("network", flat=True))
    assert [(n["network"], n["voters"], n["votes"]) for n in networks] == [("203.0.113.0/24", 6, 6)]
    assert len(fresh) == 7  # all registered today
    assert stored == {"203.0.113.0/24", "198.51.100.0/24"}  # never a full address


# --- over HTTP -------------------------------------------------------------------------------


def _client_for(user, client):
    client.force_login(user)
    return client


def test_voting_over_http_answers_json_and_form_posts(campaign_in, client):
    campaign = campaign_in()
    one, two, three = entries_of("zhejiang", campaign)
    voter = make_user(signed_in=False)
    client.force_login(voter)
    url = f"/campaigns/{campaign.pk}/vote/"
    connection.set_schema_to_public()
    answer = client.post(url, {"entry": one.pk}, HTTP_HOST=ZHEJIANG, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer.json() == {
        "ok": True,
        "message": "投票成功！今天还可以投 1 票",
        "entry": one.pk,
        "left": 1,
    }
    form = client.post(url, {"entry": two.pk}, HTTP_HOST=ZHEJIANG)
    assert form.status_code == 302 and form["Location"].endswith("#entries")
    page = client.get(form["Location"].split("#")[0], HTTP_HOST=ZHEJIANG).content.decode()
    assert "投票成功！今天的票已全部投出" in page
    refused = client.post(url, {"entry": three.pk}, HTTP_HOST=ZHEJIANG, HTTP_ACCEPT="application/json")
    assert refused.status_code == 409 and refused.json()["message"] == "今天的 2 票已经投完，明天再来吧"
    assert _counts(campaign) == {1: 1, 2: 1, 3: 0}


def test_http_votes_need_a_sign_in_and_csrf(campaign_in, client):
    from django.test import Client

    campaign = campaign_in()
    one, *_ = entries_of("zhejiang", campaign)
    url = f"/campaigns/{campaign.pk}/vote/"
    anonymous = client.post(url, {"entry": one.pk}, HTTP_HOST=ZHEJIANG, HTTP_ACCEPT="application/json")
    assert anonymous.status_code == 403 and anonymous.json()["message"] == "请先登录后再投票"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user(signed_in=False))
    assert strict.post(url, {"entry": one.pk}, HTTP_HOST=ZHEJIANG).status_code == 403
    assert client.get(url, HTTP_HOST=ZHEJIANG).status_code == 405
    assert _counts(campaign)[1] == 0


def test_a_campaign_of_another_tenant_is_not_found_here(campaign_in, client):
    move_page_ids_past("sichuan")  # an id that is no page in zhejiang
    sichuan = campaign_in("sichuan")
    entry, *_ = entries_of("sichuan", sichuan)
    client.force_login(make_user(signed_in=False))
    connection.set_schema_to_public()
    answer = client.post(f"/campaigns/{sichuan.pk}/vote/", {"entry": entry.pk}, HTTP_HOST=ZHEJIANG)
    assert answer.status_code == 404
    assert (
        client.post(
            f"/campaigns/{sichuan.pk}/vote/", {"entry": entry.pk}, HTTP_HOST=SICHUAN, HTTP_ACCEPT="application/json"
        ).status_code
        == 200
    )


def test_the_campaign_page_shows_entries_votes_and_the_ranking(campaign_in, client):
    campaign = campaign_in()
    one, two, _ = entries_of("zhejiang", campaign)
    _vote(campaign, two, make_user())
    _vote(campaign, two, make_user())
    _vote(campaign, one, make_user())
    connection.set_schema_to_public()
    html = client.get(campaign.url_path.removeprefix("/home"), HTTP_HOST=ZHEJIANG).content.decode()
    assert "作品1" in html and "实时排行" in html and "登录</a>后即可投票" in html
    ranking = html[html.index("实时排行") :]
    assert ranking.index("作品2") < ranking.index("作品1") < ranking.index("作品3")


def test_the_public_sends_in_works_during_the_submission_window(campaign_in, client):
    campaign = campaign_in(submission_start=hours(-2), submission_end=hours(2), entries=2)
    author = make_user(signed_in=False)
    client.force_login(author)
    connection.set_schema_to_public()
    url = f"/campaigns/{campaign.pk}/submit/"
    empty = client.post(url, {"title": " ", "author": "张三"}, HTTP_HOST=ZHEJIANG, HTTP_ACCEPT="application/json")
    assert empty.status_code == 400 and empty.json()["message"] == "请填写作品名称" and empty.json()["field"] == "title"
    sent = client.post(
        url, {"title": "海风里的大连", "author": "星海合唱团"}, HTTP_HOST=ZHEJIANG, HTTP_ACCEPT="application/json"
    )
    assert sent.json()["ok"]
    entries = entries_of("zhejiang", campaign)
    assert [(e.number, e.title, e.status) for e in entries][-1] == (3, "海风里的大连", "pending")
    # Pending works are not on the page and cannot be voted for until staff approve them.
    assert _refusal(campaign, entries[-1].pk, make_user()) == "没有找到这个作品"
    closed = campaign_in(entries=0)
    refused = client.post(
        f"/campaigns/{closed.pk}/submit/",
        {"title": "t", "author": "a"},
        HTTP_HOST=ZHEJIANG,
        HTTP_ACCEPT="application/json",
    )
    assert refused.json()["message"] == "当前不在作品征集时间内"


def test_tally_frames_over_the_websocket(campaign_in):
    from tests.websocket_helpers import communicator, receive_type, run

    campaign = campaign_in()
    one, *_ = entries_of("zhejiang", campaign)

    async def watch():
        comm = communicator(f"/ws/campaign/{campaign.pk}/")
        assert (await comm.connect())[0]
        first = await receive_type(comm, "tally")
        assert {row["id"]: row["public"] for row in first["rows"]}[one.pk] == 0
        await comm.send_to(text_data=json.dumps({"type": "vote", "entry": one.pk}))
        assert (await receive_type(comm, "error"))["message"] == "投票请使用页面上的投票按钮"
        await comm.disconnect()

    run(watch)()
    # Tallies pushed after a vote commits: tests/campaigns/test_parallel_votes.py (a live server).
