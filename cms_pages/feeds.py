"""RSS of a tenant's news. Every link in it is on the tenant's primary public URL, whatever host
the feed was asked on (Django would otherwise prefix relative links with the request's host)."""

from __future__ import annotations

import datetime

from django.contrib.syndication.views import Feed
from django.utils import timezone
from wagtail.models import Site

from core.urls_util import public_base_url

from .models import NewsIndexPage, NewsPage

FEED_SIZE = 20


class NewsFeed(Feed):
    description = "最新公共文化新闻与通知公告"

    def get_object(self, request):
        self.request = request
        return Site.find_for_request(request)

    def title(self, site) -> str:
        return f"{site.site_name} · 新闻动态"

    def link(self, site) -> str:
        index = NewsIndexPage.objects.live().public().order_by("path").first()
        return index.get_full_url(request=self.request) if index else public_base_url() + "/"

    def feed_url(self, site) -> str:
        return public_base_url() + "/rss.xml"

    def items(self, site):
        return NewsPage.objects.live().public().order_by("-date", "-pk")[:FEED_SIZE]

    def item_title(self, item) -> str:
        return item.title

    def item_description(self, item) -> str:
        return item.summary

    def item_link(self, item) -> str:
        return item.get_full_url(request=self.request)

    def item_pubdate(self, item):
        return timezone.make_aware(datetime.datetime.combine(item.date, datetime.time(8)))
