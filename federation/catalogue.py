"""The public national catalogue (国家资源服务总目录): listing, Chinese search, filters, details.

Read-only queries over `federation.Record` in the national schema: every item provinces and cities
pushed, plus the national site's own. Chinese search works as the site search does (decision
0007, docs/search.md): the record's `search_text` holds jieba's words and the character bigrams
(`core.chinese.segment`) when it is stored, the query's words (`core.chinese.parse_query`) must
each occur, as a whole word or as adjacent bigrams.

Only the national site has a catalogue; on other sites the views answer 404 (see
docs/federation.md, "Catalogue").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, F, Value, When
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.safestring import SafeString

from core.chinese import QueryWord, parse_query, query_in_page_script, tsquery, whole_word_tsquery

from .models import Record

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 100
FEATURED_COUNT = 6
KIND_LABELS = {"news": "资讯", "activity": "活动", "resource": "数字资源"}
# The columns a card shows; never the envelope (bodies can be large), only two keys of it.
CARD_FIELDS = ("uid", "catalogue_id", "origin_code", "origin_name", "kind", "category", "title", "origin_updated_at")


def categories_by_kind() -> dict[str, dict[str, str]]:
    """Resource and activity categories, as the origin sites label them (news has none)."""
    from cms_pages.blocks import RESOURCE_CATEGORIES
    from cms_pages.models import ActivityPage

    return {"resource": dict(RESOURCE_CATEGORIES), "activity": dict(ActivityPage.CATEGORIES)}


def category_labels() -> dict[str, str]:
    """Every category code with its label(s), for the filter ("reading" is a category of both)."""
    labels: dict[str, list[str]] = {}
    for choices in categories_by_kind().values():
        for code, label in choices.items():
            labels.setdefault(code, []).append(label)
    return {code: " / ".join(names) for code, names in labels.items()}


def _category_label(kind: str, category: str, categories: dict[str, dict[str, str]]) -> str:
    return categories.get(kind, {}).get(category, category)


def is_catalogue_site() -> bool:
    """Whether the current tenant is the national site (the only one with a public catalogue)."""
    from django_tenants.utils import get_tenant_model

    tenant = getattr(connection, "tenant", None)
    kind = getattr(tenant, "kind", None)
    if kind is None:  # a schema set by name (commands, tests): look the site up
        kind = (
            get_tenant_model().objects.filter(schema_name=connection.schema_name).values_list("kind", flat=True).first()
        )
    return kind == "national"


def _words(query: str) -> list[str]:
    return [word.text for word in parse_query(query_in_page_script(query))]


def _highlight(text: str, words: list[str]) -> SafeString:
    from cms_pages.search import highlight

    return highlight(text, words)


def matching_records(queryset, words: list[str]):
    """Records where every query word occurs (core.chinese), best first: the words in the title,
    then as whole words, then PostgreSQL's rank. Adds the `title_hits`, `whole_words`, `rank`
    annotations; the caller orders."""
    query_words = [QueryWord(w) for w in words]
    matches = SearchQuery(tsquery(query_words), config="simple", search_type="raw")
    whole = SearchQuery(" & ".join(whole_word_tsquery(w) for w in query_words), config="simple", search_type="raw")
    vector = SearchVector("search_text", config="simple")
    title_hits = sum((Case(When(title__icontains=w, then=1), default=0) for w in words), Value(0))
    return (
        queryset.annotate(found=vector)
        .filter(found=matches)
        .annotate(
            title_hits=title_hits,
            whole_words=Case(When(found=whole, then=1), default=0),
            rank=SearchRank(vector, matches),
        )
    )


def _parse_when(value) -> datetime.datetime | None:
    if not value:
        return None
    try:
        when = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return timezone.localtime(when) if timezone.is_aware(when) else when


@dataclass
class CatalogueCard:
    """One record as a list card: labels resolved, title highlighted."""

    record: Record
    kind_label: str
    category_label: str
    date: datetime.datetime | None
    title_html: SafeString
    summary_html: SafeString
    cover: object = None  # the cover Image kept here (covers.py), if any

    @property
    def url(self) -> str:
        return f"/catalogue/{self.record.uid}/"


def _card(record: Record, words: list[str], categories: dict[str, dict[str, str]]) -> CatalogueCard:
    summary = " ".join(str(getattr(record, "summary_text", "") or "").split())
    if len(summary) > 120:
        summary = summary[:120] + "…"
    return CatalogueCard(
        record=record,
        kind_label=KIND_LABELS.get(record.kind, record.kind),
        category_label=_category_label(record.kind, record.category, categories),
        date=_parse_when(getattr(record, "published_at", None)) or timezone.localtime(record.origin_updated_at),
        title_html=_highlight(record.title, words),
        summary_html=_highlight(summary, words),
    )


def _cards_queryset():
    return (
        Record.objects.filter(status=Record.Status.LIVE)
        .only(*CARD_FIELDS)
        .annotate(
            summary_text=KT("envelope__payload__summary"),
            published_at=KT("envelope__published_at"),
            cover_sha=KT("envelope__payload__cover_image"),
        )
    )


def _cards(records, words: list[str], categories: dict[str, dict[str, str]]) -> list[CatalogueCard]:
    """Cards with their cover images (one more query for the covers, one for their renditions)."""
    from .covers import covers_by_sha

    records = list(records)
    covers = covers_by_sha(record.cover_sha for record in records)
    cards = [_card(record, words, categories) for record in records]
    for card in cards:
        card.cover = covers.get(card.record.cover_sha)
    return cards


@dataclass
class CatalogueOutcome:
    query: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    cards: list[CatalogueCard] = field(default_factory=list)
    page_obj: object = None
    total: int = 0
    origins: list[tuple[str, str]] = field(default_factory=list)
    filtered: bool = False


def origins() -> list[tuple[str, str]]:
    """(region code, site name) of every site with live items in the catalogue, by region code."""
    seen: dict[str, str] = {}
    rows = (
        Record.objects.filter(status=Record.Status.LIVE)
        .values_list("origin_code", "origin_name")
        .distinct()
        .order_by("origin_code", "origin_name")
    )
    for code, name in rows:
        seen.setdefault(code, name)
    return list(seen.items())


EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(9998, 12, 31)


def _parse_date(value: str, label: str) -> tuple[datetime.date | None, str | None]:
    if not value:
        return None, None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return None, f"日期格式应为 YYYY-MM-DD（{label}），例如 2026-11-22。此条件未生效。"
    # The ends of the calendar (0001-01-01, 9999-12-31) have no time-zone-aware day bounds.
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        return (
            None,
            f"{label}超出范围，请填写 {EARLIEST_DATE.year} 年至 {LATEST_DATE.year} 年之间的日期。此条件未生效。",
        )
    return day, None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def search_catalogue(params, page_number: str | int = 1) -> CatalogueOutcome:
    """Live records matching the query and filters, newest first (best match first with a query).

    A bad value names its field in `errors` and that filter is left out; the others still apply.
    Three queries whatever the number of results (the origins, the count and the page), and two
    more when the page shows cover images (the images and their renditions).
    """
    outcome = CatalogueOutcome(origins=origins())
    errors = outcome.errors
    categories = categories_by_kind()
    queryset = _cards_queryset()

    query = str(params.get("q") or "").strip()
    outcome.query = query
    words: list[str] = []
    if len(query) > MAX_QUERY_LENGTH:
        errors["q"] = f"搜索词不能超过 {MAX_QUERY_LENGTH} 个字（搜索词）。此条件未生效。"
    elif query:
        words = _words(query)
        if not words:
            errors["q"] = "搜索词中没有可搜索的文字（搜索词）。此条件未生效。"

    origin = str(params.get("origin") or "").strip()
    if origin:
        if origin in dict(outcome.origins):
            queryset = queryset.filter(origin_code=origin)
        else:
            errors["origin"] = "没有这个来源站点（来源）。此条件未生效。"

    kind = str(params.get("kind") or "").strip()
    if kind:
        if kind in KIND_LABELS:
            queryset = queryset.filter(kind=kind)
        else:
            errors["kind"] = "没有这种内容类型（类型）。此条件未生效。"

    category = str(params.get("category") or "").strip()
    if category:
        if category in category_labels():
            queryset = queryset.filter(category=category)
        else:
            errors["category"] = "没有这个分类（分类）。此条件未生效。"

    date_from, errors["from"] = _parse_date(str(params.get("from") or "").strip(), "开始日期")
    date_to, errors["to"] = _parse_date(str(params.get("to") or "").strip(), "结束日期")
    if date_from and date_to and date_to < date_from:
        errors["to"] = "结束日期不能早于开始日期（结束日期）。此条件未生效。"
        date_to = None
    # Whole days in the site's time zone, on when the origin last updated the item.
    if date_from:
        queryset = queryset.filter(origin_updated_at__gte=_day_start(date_from))
    if date_to:
        queryset = queryset.filter(origin_updated_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    outcome.errors = {key: message for key, message in errors.items() if message}

    order = ["-origin_updated_at", "-seq"]
    if words:
        queryset = matching_records(queryset, words)
        order = [F("title_hits").desc(), F("whole_words").desc(), F("rank").desc(), *order]
    outcome.filtered = bool(words or origin or kind or category or date_from or date_to)
    paginator = Paginator(queryset.order_by(*order), PAGE_SIZE)
    outcome.page_obj = paginator.get_page(page_number)
    outcome.total = paginator.count
    outcome.cards = _cards(outcome.page_obj, words, categories)
    return outcome


def featured_cards(limit: int = FEATURED_COUNT) -> list[CatalogueCard]:
    """Live records national editors featured (各地精选), most recently updated first; one query."""
    categories = categories_by_kind()
    records = _cards_queryset().filter(featured=True).order_by("-origin_updated_at", "-seq")[:limit]
    return _cards(records, [], categories)


def record_cover(record: Record):
    """The record's cover Image kept here, or None."""
    from .covers import covers_by_sha

    sha = ((record.envelope or {}).get("payload") or {}).get("cover_image")
    return covers_by_sha([sha]).get(sha)


def get_record(uid) -> Record | None:
    return Record.objects.filter(uid=uid).first()


def _dc_rows(payload: dict) -> list[tuple[str, str]]:
    from cms_pages.models import ResourcePage

    rows = []
    kinds = dict(ResourcePage.KINDS)
    if payload.get("resource_kind"):
        rows.append(("资源类型", kinds.get(payload["resource_kind"], payload["resource_kind"])))
    if payload.get("duration_seconds"):
        rows.append(("时长", str(datetime.timedelta(seconds=int(payload["duration_seconds"])))))
    dc = payload.get("dc") or {}
    for name in ResourcePage.DUBLIN_CORE:
        value = dc.get(name)
        if not value:
            continue
        if name == "date":
            parsed = _parse_when(value)
            value = parsed.date().isoformat() if parsed else value
        rows.append((str(ResourcePage._meta.get_field(name).verbose_name), str(value)))
    return rows


def _activity_rows(payload: dict) -> list[tuple[str, str]]:
    rows = []
    start, end = _parse_when(payload.get("start")), _parse_when(payload.get("end"))
    if start:
        rows.append(("开始时间", start.strftime("%Y-%m-%d %H:%M")))
    if end:
        rows.append(("结束时间", end.strftime("%Y-%m-%d %H:%M")))
    venue = " ".join(v for v in (payload.get("venue_name"), payload.get("venue_address")) if v)
    for label, value in (
        ("场馆", venue),
        ("地点说明", payload.get("location_note")),
        ("主办单位", payload.get("organiser")),
        ("面向人群", payload.get("audience")),
    ):
        if value:
            rows.append((label, str(value)))
    return rows


def record_metadata(record: Record) -> list[tuple[str, str]]:
    """(Chinese label, value) rows a detail page shows: kind, category, dates, then the kind's own."""
    envelope = record.envelope or {}
    payload = envelope.get("payload") or {}
    rows = [("类型", KIND_LABELS.get(record.kind, record.kind))]
    if record.category:
        rows.append(("分类", _category_label(record.kind, record.category, categories_by_kind())))
    published = _parse_when(envelope.get("published_at"))
    if published:
        rows.append(("发布时间", published.strftime("%Y-%m-%d %H:%M")))
    rows.append(("更新时间", timezone.localtime(record.origin_updated_at).strftime("%Y-%m-%d %H:%M")))
    if record.kind == "resource":
        rows += _dc_rows(payload)
    elif record.kind == "activity":
        rows += _activity_rows(payload)
    elif record.kind == "news":
        news_date = _parse_when(payload.get("date"))
        if news_date:
            rows.append(("日期", news_date.strftime("%Y-%m-%d")))
        if payload.get("source"):
            rows.append(("新闻来源", str(payload["source"])))
    rows.append(("版本", str(record.version)))
    return rows


@dataclass
class CatalogueHits:
    cards: list[CatalogueCard]
    total: int


def search_for_site_search(query: str, limit: int) -> CatalogueHits:
    """The best catalogue items from other sites for the national site's own search box."""
    from django_tenants.utils import get_tenant_model

    words = _words(query)
    if not words:
        return CatalogueHits(cards=[], total=0)
    own_code = (
        get_tenant_model()
        .objects.filter(schema_name=connection.schema_name)
        .values_list("region_code", flat=True)
        .first()
    )
    queryset = matching_records(_cards_queryset(), words)
    if own_code:
        queryset = queryset.exclude(origin_code=own_code)
    order = [F("title_hits").desc(), F("whole_words").desc(), F("rank").desc(), "-origin_updated_at", "-seq"]
    total = queryset.count()
    cards = _cards(queryset.order_by(*order)[:limit], words, categories_by_kind()) if total else []
    return CatalogueHits(cards=cards, total=total)
