"""Search within one tenant's site, in Chinese: segmented queries, filters, highlighted matches.

Each tenant's search index lives in its own schema (Wagtail's database backend), so a query
never reaches another tenant's pages.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from wagtail.models import Locale, Page

from core.chinese import QueryWord, parse_query, query_in_page_script, tsquery, whole_word_tsquery

from .blocks import RESOURCE_CATEGORIES
from .models import ActivityPage, CampaignPage, LiveStreamPage, NewsPage, ResourcePage, StandardPage, VenuePage

MAX_QUERY_LENGTH = 100
PAGE_SIZE = 10
SNIPPET_LENGTH = 120
SEARCH_CONFIG = "simple"  # as the index (settings.WAGTAILSEARCH_BACKENDS): no stemming, lower case
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
    words: list[str] = field(default_factory=list)  # what the query asked for, as highlighted
    filtered: bool = False  # a filter is set (results are listed even without a query)


def highlight(text: str, words: list[str]) -> SafeString:
    """HTML-escaped text with every occurrence of a query word wrapped in <mark> (nothing else)."""
    escaped = escape(text)
    if not words:
        return mark_safe(escaped)  # noqa: S308 - escaped above
    alternatives = sorted({escape(w) for w in words if w}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in alternatives), re.IGNORECASE)
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))  # noqa: S308


def _snippet(text: str, words: list[str]) -> str:
    text = " ".join(text.split())
    lowered = text.lower()
    positions = [lowered.find(w) for w in words if w in lowered]
    start = max(0, min(positions) - 30) if positions else 0
    snippet = text[start : start + SNIPPET_LENGTH]
    return ("…" if start else "") + snippet + ("…" if start + SNIPPET_LENGTH < len(text) else "")


def _snippet_source(page, words: list[str]) -> str:
    """The summary, unless the words occur only further in the page's text (then that text)."""
    summary = page.summary or ""
    if not words or any(w in summary.lower() for w in words):
        return summary or page.plain_search_text()
    text = page.plain_search_text()
    return text if any(w in text.lower() for w in words) else summary or text


EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(9998, 12, 31)


def _parse_date(value: str, label: str, errors: dict[str, str], key: str) -> datetime.date | None:
    if not value:
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        errors[key] = gettext("%(label)s格式不正确，请使用 年-月-日，例如 2026-11-22。") % {"label": label}
        return None
    # Days at the ends of the calendar (0001-01-01, 9999-12-31) cannot be turned into the
    # time-zone-aware bounds of a day; nothing was published then anyway.
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        errors[key] = f"{label}超出范围，请填写 {EARLIEST_DATE.year} 年至 {LATEST_DATE.year} 年之间的日期。"
        return None
    return day


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _pages(kind: str, category: str):
    """Live, public pages of the searchable types (or one type), in the language being read."""
    models = [SEARCHABLE_TYPES[kind]] if kind else list(SEARCHABLE_TYPES.values())
    queryset = Page.objects.type(*models)
    if category:
        # Only activities and resources have categories; a code may belong to both.
        having = Q()
        for model in (ActivityPage, ResourcePage):
            if model in models and category in dict(model._meta.get_field("category").choices):
                having |= Q(**{f"{model._meta.model_name}__category": category})
        queryset = queryset.filter(having) if having else queryset.none()
    return queryset.live().public().filter(locale=Locale.get_active())


def _ranked(queryset, words: list[QueryWord]):
    """Pages where every query word occurs; title matches first, then whole words, then rank."""
    matches = SearchQuery(tsquery(words), search_type="raw", config=SEARCH_CONFIG)
    whole_words = SearchQuery(" & ".join(whole_word_tsquery(w) for w in words), search_type="raw", config=SEARCH_CONFIG)
    title_hits = sum((Case(When(title__icontains=w.text, then=1), default=0) for w in words), Value(0))
    return (
        queryset.annotate(_vector=F("index_entries__body"))
        .filter(_vector=matches)
        .annotate(
            title_hits=title_hits,
            whole_words=Case(When(_vector=whole_words, then=1), default=0),
            rank=SearchRank(F("_vector"), matches),
        )
        .order_by("-title_hits", "-whole_words", "-rank", F("first_published_at").desc(nulls_last=True), "-pk")
    )


def search_site(params, page_number: str | int = 1) -> SearchOutcome:
    """Validate the query and filters, search this tenant's live pages, highlight the matches.

    Filters work without a query (newest first); with a query every word must occur.
    """
    query = (params.get("q") or "").strip()
    outcome = SearchOutcome(query=query)
    errors = outcome.errors
    if len(query) > MAX_QUERY_LENGTH:
        errors["q"] = gettext("搜索词不能超过 %(count)s 个字。") % {"count": MAX_QUERY_LENGTH}
    kind = params.get("type") or ""
    if kind and kind not in SEARCHABLE_TYPES:
        errors["type"] = gettext("没有这种内容类型。")
    category = params.get("category") or ""
    if category and category not in CATEGORY_LABELS:
        errors["category"] = gettext("没有这个分类。")
    date_from = _parse_date(params.get("from", ""), gettext("开始日期"), errors, "from")
    date_to = _parse_date(params.get("to", ""), gettext("结束日期"), errors, "to")
    if date_from and date_to and date_to < date_from:
        errors["to"] = gettext("结束日期不能早于开始日期。")
    words = parse_query(query_in_page_script(query))
    outcome.words = [w.text for w in words]
    outcome.filtered = bool(kind or category or date_from or date_to)
    if errors or not (words or outcome.filtered):
        return outcome

    queryset = _pages(kind, category)
    # Whole days in the site's time zone.
    if date_from:
        queryset = queryset.filter(first_published_at__gte=_day_start(date_from))
    if date_to:
        queryset = queryset.filter(first_published_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    if words:
        queryset = _ranked(queryset, words)
    else:
        queryset = queryset.order_by(F("first_published_at").desc(nulls_last=True), "-pk")
    with transaction.atomic(), connection.cursor() as cursor:
        # PostgreSQL cannot estimate how many rows a text query matches (it guesses 1) and then
        # joins index entries to pages by nested loop: 1 s on 10,000 pages instead of 40 ms with
        # a hash join (bench/search.py). Only for this transaction.
        cursor.execute("SET LOCAL enable_nestloop = off")
        paginator = Paginator(queryset, PAGE_SIZE)
        outcome.page_obj = paginator.get_page(page_number)
        outcome.total = paginator.count
        pages = [page.specific for page in outcome.page_obj]
    marked = outcome.words
    outcome.results = [
        SearchResult(
            page=page,
            type_label=page._meta.verbose_name,
            title_html=highlight(page.title, marked),
            snippet_html=highlight(_snippet(_snippet_source(page, marked), marked), marked),
        )
        for page in pages
    ]
    return outcome
