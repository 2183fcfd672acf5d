"""Search within one tenant's site, in Chinese: segmented queries, filters, highlighted matches.

Each tenant's search index lives in its own schema (Wagtail's database backend), so a query
never reaches another tenant's pages.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from wagtail.models import Page

from core.chinese import segment

from .blocks import RESOURCE_CATEGORIES
from .models import ActivityPage, CampaignPage, LiveStreamPage, NewsPage, ResourcePage, StandardPage, VenuePage

MAX_QUERY_LENGTH = 100
PAGE_SIZE = 10
SNIPPET_LENGTH = 120
SEARCHABLE_TYPES = {
    "news": NewsPage,
    "activity": ActivityPage,
    "resource": ResourcePage,
    "venue": VenuePage,
    "live": LiveStreamPage,
    "campaign": CampaignPage,
    "page": StandardPage,
}
TYPE_LABELS = {key: model._meta.verbose_name for key, model in SEARCHABLE_TYPES.items()}
CATEGORY_LABELS = {**dict(RESOURCE_CATEGORIES), **dict(ActivityPage.CATEGORIES)}


@dataclass
class SearchResult:
    page: object
    type_label: str
    title_html: SafeString
    snippet_html: SafeString


@dataclass
class SearchOutcome:
    query: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    results: list[SearchResult] = field(default_factory=list)
    page_obj: object = None
    total: int = 0


def _words(query: str) -> list[str]:
    return sorted(set(segment(query).split()), key=len, reverse=True)


def highlight(text: str, words: list[str]) -> SafeString:
    """HTML-escaped text with every query word wrapped in <mark>."""
    escaped = escape(text)
    if not words:
        return mark_safe(escaped)  # noqa: S308 - escaped above
    pattern = re.compile("|".join(re.escape(escape(w)) for w in words), re.IGNORECASE)
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))  # noqa: S308


def _snippet(text: str, words: list[str]) -> str:
    text = " ".join(text.split())
    positions = [text.find(w) for w in words if w in text]
    start = max(0, min(positions) - 30) if positions else 0
    snippet = text[start : start + SNIPPET_LENGTH]
    return ("…" if start else "") + snippet + ("…" if start + SNIPPET_LENGTH < len(text) else "")


def _parse_date(value: str, label: str, errors: dict[str, str], key: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        errors[key] = f"{label}格式不正确，请使用 年-月-日，例如 2026-11-22。"
        return None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def search_site(params, page_number: str | int = 1) -> SearchOutcome:
    """Validate the query and filters, search this tenant's live pages, highlight the matches."""
    query = (params.get("q") or "").strip()
    outcome = SearchOutcome(query=query)
    errors = outcome.errors
    if len(query) > MAX_QUERY_LENGTH:
        errors["q"] = f"搜索词不能超过 {MAX_QUERY_LENGTH} 个字。"
    kind = params.get("type") or ""
    if kind and kind not in SEARCHABLE_TYPES:
        errors["type"] = "没有这种内容类型。"
    category = params.get("category") or ""
    if category and category not in CATEGORY_LABELS:
        errors["category"] = "没有这个分类。"
    date_from = _parse_date(params.get("from", ""), "开始日期", errors, "from")
    date_to = _parse_date(params.get("to", ""), "结束日期", errors, "to")
    if date_from and date_to and date_to < date_from:
        errors["to"] = "结束日期不能早于开始日期。"
    words = _words(query)
    if errors or not words:
        return outcome

    # One search over the page tree (restricted to the searchable types), ranked and paginated by
    # PostgreSQL; only the page shown is loaded as specific pages. A category filter narrows the
    # search to the types that have categories, searched through their own model.
    models = [SEARCHABLE_TYPES[kind]] if kind else list(SEARCHABLE_TYPES.values())
    if category:
        models = [
            m
            for m in models
            if m in (ActivityPage, ResourcePage) and category in dict(m._meta.get_field("category").choices)
        ]
    if not models:
        outcome.page_obj = Paginator([], PAGE_SIZE).get_page(1)
        return outcome
    # One search, ranked and paginated by PostgreSQL; only the page shown is loaded as specific
    # pages. Several types go through the page tree, one type (or a category) through its model.
    searches = []
    for model in models if category else [None]:
        if model is None:
            queryset = models[0].objects.all() if len(models) == 1 else Page.objects.type(*models)
        else:
            queryset = model.objects.filter(category=category)
        queryset = queryset.live().public()
        # Whole days in the site's time zone; plain comparisons, as the search backend requires.
        if date_from:
            queryset = queryset.filter(first_published_at__gte=_day_start(date_from))
        if date_to:
            queryset = queryset.filter(first_published_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
        searches.append(queryset.search(" ".join(words), operator="and", order_by_relevance=True))
    with transaction.atomic(), connection.cursor() as cursor:
        # PostgreSQL cannot estimate how many rows a multi-word text query matches (it guesses 1)
        # and then joins index entries to pages by nested loop: 1 s on 10,000 pages instead of
        # 40 ms with a hash join (bench/search.py). Only for this transaction.
        cursor.execute("SET LOCAL enable_nestloop = off")
        hits = searches[0] if len(searches) == 1 else [hit for search in searches for hit in search]
        paginator = Paginator(hits, PAGE_SIZE)
        outcome.page_obj = paginator.get_page(page_number)
        outcome.total = paginator.count
        pages = [page.specific for page in outcome.page_obj]
    outcome.results = [
        SearchResult(
            page=page,
            type_label=page._meta.verbose_name,
            title_html=highlight(page.title, words),
            snippet_html=highlight(_snippet(page.summary or page.plain_search_text(), words), words),
        )
        for page in pages
    ]
    return outcome
