"""Broken embeds: the editor gets a clear message and nothing is saved; a video site that stops
answering later does not break the page — readers get a link instead of the player."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from django.utils import translation
from django_tenants.utils import schema_context
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.test.utils.form_data import nested_form_data, streamfield

from cms_pages import models as m
from cms_pages.blocks import VideoBlock
from tenants.demo import DEMO_PASSWORD
from tests.admin_forms import form_fields

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
DEAD = "https://video.invalid/watch/yueju-liangzhu"  # no oEmbed provider knows it; .invalid never resolves


def test_an_unembeddable_video_link_is_refused_with_a_chinese_message():
    block = VideoBlock()
    with schema_context("zhejiang"):
        value = block.to_python({"title": "越剧《梁祝》", "embed": DEAD})
        with translation.override("zh-hans"), pytest.raises(StructBlockValidationError) as refused:
            block.clean(value)
    message = " ".join(str(e) for e in refused.value.block_errors["embed"])
    assert "没有找到内嵌元素" in message


def test_publishing_a_page_with_a_broken_embed_in_the_admin_saves_nothing(client):
    with schema_context("zhejiang"):
        page = m.NewsPage.objects.live().first()
        revisions = page.revisions.count()
    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    edit_url = f"/admin/pages/{page.pk}/edit/"
    data = form_fields(client.get(edit_url, HTTP_HOST=ZJ).content.decode())
    data.update(
        nested_form_data(
            {"body": streamfield([("video", {"title": "失效视频", "embed": DEAD, "document": "", "captions": ""})])}
        )
    )
    data["action-publish"] = "action-publish"
    answer = client.post(edit_url, data, HTTP_HOST=ZJ, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 200  # the form again, with the error
    html = answer.content.decode()
    # The block's error travels to the StreamField editor as JSON (drawn by JavaScript).
    assert "没有找到内嵌元素" in html or json.dumps("没有找到内嵌元素")[1:-1] in html
    errors = " ".join(
        li.get_text(" ", strip=True) for li in BeautifulSoup(html, "html.parser").select(".messages li.error")
    )
    assert errors  # Wagtail's own banner ("could not be saved due to validation errors")
    with schema_context("zhejiang"):
        assert page.revisions.count() == revisions
        page.refresh_from_db()
        assert "失效视频" not in str(page.body.raw_data)


def test_a_stored_embed_that_stopped_working_renders_a_link(client):
    with schema_context("zhejiang"):
        page = m.NewsPage.objects.live().first()
        # Saved when the video site still answered; it no longer does.
        raw = [
            {"type": "video", "value": {"title": "越剧《梁祝》选段", "embed": DEAD, "document": None, "captions": None}}
        ]
        m.NewsPage.objects.filter(pk=page.pk).update(body=raw)
        path = page.url_path.removeprefix("/home")
    answer = client.get(path, HTTP_HOST=ZJ)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert f'href="{DEAD}"' in html and "在视频网站观看：越剧《梁祝》选段" in html
