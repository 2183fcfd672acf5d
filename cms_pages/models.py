"""The page types of a tenant's site: home, news, activities, digital resources, venues, live, campaigns."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_noop
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from core.chinese import segment

from .blocks import RESOURCE_CATEGORIES, body_blocks
from .privacy import public

LIST_PREFETCH = ("cover_image__renditions",)
# What every list card shows: title, link, summary and cover (all of the image, for its renditions).
CARD_FIELDS = ("title", "url_path", "summary", "cover_image")


def _cover_image(**kwargs):
    return models.ForeignKey(
        "wagtailimages.Image",
        verbose_name="封面图",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        **kwargs,
    )


def _body():
    return StreamField(body_blocks(), verbose_name="正文", blank=True)


def _check_period(page, start: str = "start", end: str = "end") -> None:
    if getattr(page, start) and getattr(page, end) and getattr(page, end) < getattr(page, start):
        raise ValidationError({end: "结束时间不能早于开始时间"})


def validate_media_address(value: str) -> None:
    """An http(s) address, or a path on this site (/media/…): never javascript: or data:."""
    if value.startswith("/") and not value.startswith("//"):
        return
    URLValidator(schemes=["http", "https"], message="请填写 http:// 或 https:// 开头的地址，或以 / 开头的本站地址")(
        value
    )


class PublicUrlMixin:
    """Full URLs of pages on the tenant's one primary public URL (scheme, host and port).

    Wagtail builds them from its Site's hostname and port, which carry neither the scheme nor the
    port the platform is really served on, nor the primary domain the operator chose. Canonical
    links, og:url, the sitemap, feeds and federation envelopes all come through here.
    """

    def get_url_parts(self, request=None):
        parts = super().get_url_parts(request)
        if parts is None:
            return None
        from core.urls_util import public_base_url

        site_id, _wagtail_root_url, page_path = parts
        return site_id, public_base_url(), page_path


def in_reading_language(queryset, root, *, children_only: bool = False):
    """The pages of `queryset` below `root` (a home or section page), for a list in the language
    being read.

    In zh-Hans: the pages under `root`. In any other language: the pages under `root` and, for the
    pages of the original (zh-Hans) tree below `root`'s original that have no translation under
    `root`, the originals, so a foreign visitor sees every item, translated where a translation
    exists and never twice. Each page carries `untranslated` (True for an original shown in place
    of a missing translation; its link is made in the reader's language by `{% listed_url %}`).
    Still one query: the original tree and the translated items are subqueries.
    """
    from django.conf import settings
    from django.db.models import BooleanField, ExpressionWrapper, Q, Subquery
    from django.utils.translation import get_language
    from wagtail.models import Locale

    depth = Q(depth=root.depth + 1) if children_only else Q(depth__gt=root.depth)
    if get_language() == settings.LANGUAGE_CODE:
        return queryset.filter(depth, path__startswith=root.path)
    original_root_path = Subquery(
        Page.objects.filter(translation_key=root.translation_key, locale__language_code=settings.LANGUAGE_CODE).values(
            "path"
        )[:1]
    )
    translated_here = Page.objects.filter(path__startswith=root.path, depth__gt=root.depth).values("translation_key")
    original_locale = Subquery(Locale.objects.filter(language_code=settings.LANGUAGE_CODE).values("pk")[:1])
    return queryset.filter(
        depth,
        Q(path__startswith=root.path)
        | (Q(path__startswith=original_root_path) & ~Q(translation_key__in=translated_here)),
    ).annotate(
        untranslated=ExpressionWrapper(
            ~Q(path__startswith=root.path) | Q(locale_id=original_locale), output_field=BooleanField()
        )
    )


def in_reading_locale(queryset):
    """The pages of `queryset` in the language being read, with the originals of those not
    translated into it (marked `untranslated`): for lists not tied to a section (the body's
    activity and resource blocks, a venue's activities), which would otherwise show an item once
    per language it exists in. One query, as `in_reading_language`."""
    from django.conf import settings
    from django.db.models import BooleanField, ExpressionWrapper, Q, Subquery
    from django.utils.translation import get_language
    from wagtail.models import Locale

    original_locale = Subquery(Locale.objects.filter(language_code=settings.LANGUAGE_CODE).values("pk")[:1])
    language = get_language() or settings.LANGUAGE_CODE
    if language == settings.LANGUAGE_CODE:
        return queryset.filter(locale_id=original_locale)
    reading_locale = Subquery(Locale.objects.filter(language_code=language).values("pk")[:1])
    translated = Page.objects.filter(locale_id=reading_locale).values("translation_key")
    return queryset.filter(
        Q(locale_id=reading_locale) | (Q(locale_id=original_locale) & ~Q(translation_key__in=translated))
    ).annotate(untranslated=ExpressionWrapper(Q(locale_id=original_locale), output_field=BooleanField()))


class BasePage(PublicUrlMixin, Page):
    """Common parts of the content pages (abstract): a summary and a cover image for lists."""

    summary = models.TextField("摘要", blank=True, help_text="列表和分享时显示，建议 100 字以内")
    cover_image = _cover_image()
    body = _body()

    # Chinese text is indexed segmented into words (core.chinese); queries are segmented the same way.
    search_fields = [
        *Page.search_fields,
        index.SearchField("segmented_title", boost=3),
        index.SearchField("segmented_text"),
        index.FilterField("first_published_at"),
    ]
    # Further text fields of a page type that search should find (segmented with the rest).
    search_text_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def segmented_title(self) -> str:
        return segment(self.title)

    def plain_search_text(self) -> str:
        """The page's searchable text, unsegmented: summary, extra fields and the body's blocks."""
        parts = [self.summary, *(str(getattr(self, name) or "") for name in self.search_text_fields)]
        parts += self._meta.get_field("body").get_searchable_content(self.body)
        return "\n".join(p for p in parts if p)

    def segmented_text(self) -> str:
        return segment(self.plain_search_text())


class FederatedMixin(models.Model):
    """A page that can travel between sites (ARCHITECTURE §5): a permanent identifier minted here
    and the editor's choice to push it to the national catalogue (推送到国家平台)."""

    uid = models.UUIDField("唯一标识符", default=uuid.uuid4, unique=True, editable=False)
    push_to_national = models.BooleanField(
        "推送到国家平台",
        default=False,
        help_text="发布、撤回或删除时同步到国家公共文化云目录；站点也可按内容类型统一设置",
    )

    # Set on copies pulled from another site (federation.pull): where the original lives. Search
    # engines are pointed there (rel=canonical), as for any syndicated article.
    original_url = models.URLField("原文地址", max_length=500, blank=True, editable=False)

    promote_panels = [*Page.promote_panels, FieldPanel("push_to_national")]
    # A copy is a new item of this site: a new identifier, no original elsewhere.
    exclude_fields_in_copy = ["uid", "original_url"]

    class Meta:
        abstract = True

    @property
    def canonical_url(self) -> str:
        return self.original_url or self.full_url


class HomePage(PublicUrlMixin, Page):
    """A tenant's home page: the root of its site tree."""

    intro = RichTextField("导语", blank=True)
    body = StreamField(body_blocks(), verbose_name="内容", blank=True)

    content_panels = [
        *Page.content_panels,
        InlinePanel("banner_slides", label="轮播图", heading="首页轮播图", max_num=8),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    max_count_per_parent = 1
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "cms_pages.NewsIndexPage",
        "cms_pages.ActivityIndexPage",
        "cms_pages.ResourceIndexPage",
        "cms_pages.VenueIndexPage",
        "cms_pages.StandardPage",
        "cms_pages.LiveStreamPage",
        "cms_pages.CampaignPage",
        "volunteers.OpportunityIndexPage",
    ]

    class Meta:
        verbose_name = "首页"

    def route(self, request, path_components):
        """A translated home routes through its own tree; a page not translated yet is found in the
        original tree instead and shown in its own language with a note (themes/base.html), rather
        than a 404 under /en/ wherever its section happens to be translated."""
        from wagtail.models import Locale

        try:
            return super().route(request, path_components)
        except Http404:
            default = Locale.get_default()
            if not path_components or self.locale_id == default.pk:
                raise
            original = self.get_translation_or_none(default)
            if original is None:
                raise
            return original.specific.route(request, path_components)

    def banner(self):
        """The banner's slides in their order, with images, renditions and linked pages (three queries)."""
        return list(
            self.banner_slides.select_related("image", "link_page")
            .prefetch_related("image__renditions")
            .order_by("sort_order")
        )

    def get_context(self, request, *args, **kwargs):
        # Three bounded queries (plus renditions of any cover images), whatever the site holds.
        # Only the columns the cards show (cms_pages/includes/*_list.html): not the bodies.
        # Built lazily: home_page.html keeps the rendered lists in the tenant's cache, and a
        # cached copy needs none of them.
        from django.utils.functional import SimpleLazyObject

        context = super().get_context(request, *args, **kwargs)
        context["latest_news"] = SimpleLazyObject(
            lambda: (
                in_reading_language(public(NewsPage.objects.live()), self)
                .select_related("cover_image")
                .prefetch_related(*LIST_PREFETCH)
                .only(*CARD_FIELDS, "date", "source")
                .order_by("-date", "-pk")[:3]
            )
        )
        activities = SimpleLazyObject(lambda: in_reading_language(ActivityPage.upcoming(), self)[:3])
        context["upcoming_activities"] = activities
        context["featured_resources"] = SimpleLazyObject(
            lambda: (
                in_reading_language(public(ResourcePage.objects.live()), self)
                .select_related("cover_image")
                .prefetch_related(*LIST_PREFETCH)
                .only(*CARD_FIELDS, "kind", "category")
                .order_by("-first_published_at")[:4]
            )
        )
        # The lists stay right until the first activity shown ends (then the next one moves up);
        # read after rendering, from the activities already loaded.
        context["home_lists_until"] = lambda: min((activity.end for activity in activities), default=None)
        # The national home page also lists catalogue items its editors featured (各地精选).
        from federation.catalogue import featured_cards, is_catalogue_site

        if is_catalogue_site():
            context["featured_records"] = SimpleLazyObject(lambda: featured_cards())
        return context


class HomeBannerSlide(Orderable):
    """One picture of the home page's banner (首页轮播图), chosen by the site's editors."""

    page = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="banner_slides", verbose_name="首页")
    image = models.ForeignKey("wagtailimages.Image", verbose_name="图片", on_delete=models.CASCADE, related_name="+")
    title = models.CharField("标题", max_length=60)
    alt_text = models.CharField(
        "图片说明（替代文字）", max_length=200, help_text="为看不到图片的读者描述图片内容，如：越剧演员在舞台上演出"
    )
    link_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="链接页面",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    link_url = models.CharField(
        "链接地址",
        max_length=500,
        blank=True,
        validators=[validate_media_address],
        help_text="未选链接页面时使用：http(s):// 开头，或以 / 开头的本站地址",
    )

    panels = [
        FieldPanel("image"),
        FieldPanel("title"),
        FieldPanel("alt_text"),
        FieldPanel("link_page"),
        FieldPanel("link_url"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = "轮播图"
        verbose_name_plural = "轮播图"

    def __str__(self) -> str:
        return self.title

    @property
    def link(self) -> str:
        if self.link_page_id:
            return self.link_page.url or ""
        return self.link_url


class StandardPage(BasePage):
    """A plain page: 关于我们, 服务指南, ..."""

    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("cover_image"), FieldPanel("body")]
    parent_page_types = ["cms_pages.HomePage", "cms_pages.StandardPage"]
    subpage_types = ["cms_pages.StandardPage"]

    class Meta:
        verbose_name = "普通页面"
        verbose_name_plural = "普通页面"


class IndexPage(PublicUrlMixin, Page):
    """Common parts of the index pages (abstract): an intro and a paginated list of live children."""

    intro = RichTextField("导语", blank=True)
    content_panels = [*Page.content_panels, FieldPanel("intro")]
    child_model: type[Page]
    per_page = 12
    max_count_per_parent = 1
    parent_page_types = ["cms_pages.HomePage"]

    class Meta:
        abstract = True

    def children(self):
        """Live children in one query: the child model's own queryset is already specific.

        Restricted children included: routing finds them (Wagtail then asks for the password or
        a sign-in); lists use `listed_children`."""
        return (
            self.child_model.objects.child_of(self)
            .live()
            .select_related("cover_image")
            .prefetch_related(*LIST_PREFETCH)
            .order_by(*self.child_ordering)
        )

    def listed_children(self):
        """The children anyone may see listed: live and under no view restriction; in a language
        other than zh-Hans, with the originals of the items not translated yet
        (`in_reading_language`)."""
        children = (
            self.child_model.objects.live()
            .select_related("cover_image")
            .prefetch_related(*LIST_PREFETCH)
            .order_by(*self.child_ordering)
        )
        return public(in_reading_language(self._list_queryset(children), self, children_only=True))

    def _list_queryset(self, queryset):
        """What a section's list loads besides the card (a venue for activities)."""
        return queryset

    child_ordering = ("-first_published_at",)

    def route(self, request, path_components):
        """Find a child by slug in one query, already specific (Wagtail's default takes two, plus a content type)."""
        if path_components:
            try:
                child = self.children().get(slug=path_components[0])
            except self.child_model.DoesNotExist:
                raise Http404 from None
            child._cached_parent_obj = self
            return child.route(request, path_components[1:])
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        from django.core.paginator import Paginator

        context = super().get_context(request, *args, **kwargs)
        paginator = Paginator(self.listed_children(), self.per_page)
        context["children"] = paginator.get_page(request.GET.get("page"))
        return context


class NewsIndexPage(IndexPage):
    subpage_types = ["cms_pages.NewsPage"]
    child_ordering = ("-date", "-pk")

    class Meta:
        verbose_name = "新闻列表"
        verbose_name_plural = "新闻列表"

    @property
    def child_model(self):
        return NewsPage


class NewsPage(FederatedMixin, BasePage):  # noqa: DJ008 (Page's __str__: the title)
    date = models.DateField("发布日期", default=timezone.localdate)
    source = models.CharField("来源", max_length=100, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("date"), FieldPanel("source")]),
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldPanel("body"),
    ]
    parent_page_types = ["cms_pages.NewsIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "新闻"
        verbose_name_plural = "新闻"


class ActivityIndexPage(IndexPage):
    subpage_types = ["cms_pages.ActivityPage"]
    child_ordering = ("start",)

    class Meta:
        verbose_name = "活动列表"
        verbose_name_plural = "活动列表"

    @property
    def child_model(self):
        return ActivityPage

    def children(self):
        return super().children().select_related("venue")

    def _list_queryset(self, queryset):
        return queryset.select_related("venue")


class ActivityPage(FederatedMixin, BasePage):  # noqa: DJ008 (Page's __str__: the title)
    CATEGORIES = [
        ("performance", gettext_noop("演出")),
        ("exhibition", gettext_noop("展览")),
        ("lecture", gettext_noop("讲座")),
        ("training", gettext_noop("培训")),
        ("contest", gettext_noop("比赛")),
        ("reading", gettext_noop("阅读推广")),
        ("intangible", gettext_noop("非遗体验")),
        ("other", gettext_noop("其他")),
    ]
    AUDIENCES = [
        ("all", gettext_noop("所有人")),
        ("children", gettext_noop("少年儿童")),
        ("youth", gettext_noop("青少年")),
        ("adults", gettext_noop("成年人")),
        ("seniors", gettext_noop("老年人")),
        ("families", gettext_noop("亲子家庭")),
        ("disabled", gettext_noop("残障人士")),
    ]

    start = models.DateTimeField("开始时间")
    end = models.DateTimeField("结束时间")
    venue = models.ForeignKey(
        "cms_pages.VenuePage",
        verbose_name="场馆",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    location_note = models.CharField(
        "具体地点", max_length=200, blank=True, help_text="如：二楼多功能厅；线上活动可填“线上”"
    )
    category = models.CharField("活动类别", max_length=20, choices=CATEGORIES, default="performance")
    audience = models.CharField("适合人群", max_length=20, choices=AUDIENCES, default="all")
    organiser = models.CharField("主办单位", max_length=200, blank=True)
    booking_enabled = models.BooleanField("开放预约", default=False)
    capacity = models.PositiveIntegerField("名额", null=True, blank=True, help_text="开放预约时必填")
    per_person_limit = models.PositiveSmallIntegerField(
        "每人限约", default=2, validators=[MinValueValidator(1, "每人限约至少为 1")]
    )
    requires_approval = models.BooleanField("预约需审核", default=False)

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("start"), FieldPanel("end")]),
                FieldPanel("venue"),
                FieldPanel("location_note"),
                FieldRowPanel([FieldPanel("category"), FieldPanel("audience")]),
                FieldPanel("organiser"),
            ],
            heading="时间与地点",
        ),
        MultiFieldPanel(
            [
                FieldPanel("booking_enabled"),
                FieldRowPanel([FieldPanel("capacity"), FieldPanel("per_person_limit")]),
                FieldPanel("requires_approval"),
            ],
            heading="预约设置",
        ),
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldPanel("body"),
    ]
    search_text_fields = ("organiser", "location_note")
    search_fields = [*BasePage.search_fields, index.FilterField("start"), index.FilterField("category")]
    parent_page_types = ["cms_pages.ActivityIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "活动"
        verbose_name_plural = "活动"

    def clean(self):
        super().clean()
        _check_period(self)
        if self.booking_enabled and not self.capacity:
            raise ValidationError({"capacity": "开放预约时必须填写名额"})

    @classmethod
    def upcoming(cls):
        """Live activities not yet over and under no view restriction, soonest first, with their
        venue (one query).

        Loads what an activity card shows (cms_pages/includes/activity_list.html), not the body."""
        return (
            public(cls.objects.live())
            .filter(end__gte=timezone.now())
            .select_related("venue", "cover_image")
            .prefetch_related(*LIST_PREFETCH)
            .only(
                *CARD_FIELDS,
                "category",
                "start",
                "end",
                "venue__title",
                "location_note",
                "booking_enabled",
                "capacity",
                "translation_key",  # the booking state (bookings.availability): sessions of any translation
                "original_url",
            )
            .order_by("start")
        )

    @property
    def is_over(self) -> bool:
        return self.end < timezone.now()


class ResourceIndexPage(IndexPage):
    subpage_types = ["cms_pages.ResourcePage"]

    class Meta:
        verbose_name = "数字资源列表"
        verbose_name_plural = "数字资源列表"

    @property
    def child_model(self):
        return ResourcePage

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["categories"] = RESOURCE_CATEGORIES
        return context


class ResourcePage(FederatedMixin, BasePage):  # noqa: DJ008 (Page's __str__: the title)
    """A digital resource with Dublin Core metadata and a permanent unique identifier."""

    KINDS = [
        ("video", gettext_noop("视频")),
        ("audio", gettext_noop("音频")),
        ("ebook", gettext_noop("电子书")),
        ("image_set", gettext_noop("图集")),
        ("article", gettext_noop("图文")),
    ]
    # Dublin Core elements besides title (the page title) and identifier (defaults to the uid).
    DUBLIN_CORE = [
        "creator",
        "subject",
        "description",
        "publisher",
        "contributor",
        "date",
        "type",
        "format",
        "identifier",
        "source",
        "language",
        "relation",
        "coverage",
        "rights",
    ]

    kind = models.CharField("资源类型", max_length=20, choices=KINDS, default="video")
    category = models.CharField("资源分类", max_length=20, choices=RESOURCE_CATEGORIES, default="art")
    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name="资源文件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    stream_url = models.URLField("外部播放地址", blank=True, help_text="视频、音频的在线播放地址")
    duration = models.DurationField("时长", null=True, blank=True, help_text="格式：时:分:秒，如 01:30:00")

    creator = models.CharField(
        gettext_noop("创建者"), max_length=255, blank=True, help_text="DC.creator：作者、表演者、摄制者"
    )
    subject = models.CharField(
        gettext_noop("主题"), max_length=255, blank=True, help_text="DC.subject：关键词，用“；”分隔"
    )
    description = models.TextField(gettext_noop("描述"), blank=True, help_text="DC.description")
    publisher = models.CharField(gettext_noop("出版者"), max_length=255, blank=True, help_text="DC.publisher")
    contributor = models.CharField(gettext_noop("其他责任者"), max_length=255, blank=True, help_text="DC.contributor")
    date = models.DateField(gettext_noop("日期"), null=True, blank=True, help_text="DC.date：资源创建或发布日期")
    type = models.CharField(
        gettext_noop("类型"), max_length=100, blank=True, help_text="DC.type：如 MovingImage、Text、StillImage"
    )
    format = models.CharField(
        gettext_noop("格式"), max_length=100, blank=True, help_text="DC.format：如 video/mp4、application/epub+zip"
    )
    identifier = models.CharField(
        gettext_noop("标识符"), max_length=255, blank=True, help_text="DC.identifier：留空则使用唯一标识符"
    )
    source = models.CharField(gettext_noop("来源"), max_length=255, blank=True, help_text="DC.source")
    language = models.CharField(
        gettext_noop("语种"), max_length=35, blank=True, default="zh", help_text="DC.language：如 zh、en、bo"
    )
    relation = models.CharField(gettext_noop("关联"), max_length=255, blank=True, help_text="DC.relation")
    coverage = models.CharField(
        gettext_noop("覆盖范围"), max_length=255, blank=True, help_text="DC.coverage：地域或时间范围"
    )
    rights = models.CharField(gettext_noop("权限"), max_length=255, blank=True, help_text="DC.rights：版权声明")

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("kind"), FieldPanel("category")]),
        MultiFieldPanel([FieldPanel("document"), FieldPanel("stream_url"), FieldPanel("duration")], heading="资源文件"),
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldPanel("body"),
        MultiFieldPanel([FieldPanel(name) for name in DUBLIN_CORE], heading="都柏林核心元数据", classname="collapsed"),
    ]
    search_text_fields = ("creator", "subject", "description", "publisher", "contributor", "coverage")
    search_fields = [
        *BasePage.search_fields,
        index.FilterField("category"),
        index.FilterField("kind"),
    ]
    parent_page_types = ["cms_pages.ResourceIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "数字资源"
        verbose_name_plural = "数字资源"

    def clean(self):
        super().clean()
        if self.kind in ("video", "audio") and not self.document_id and not self.stream_url:
            raise ValidationError({"stream_url": "视频、音频资源须上传资源文件或填写外部播放地址"})

    @property
    def urn(self) -> str:
        return f"urn:uuid:{self.uid}"

    def dublin_core(self) -> list[tuple[str, str, str]]:
        """(element, Chinese label, value) for each filled Dublin Core element, title first.

        The labels are message ids (gettext_noop): the page translates them, the OAI-PMH feed does not."""
        rows = [("title", gettext_noop("题名"), self.title)]
        for name in self.DUBLIN_CORE:
            value = getattr(self, name)
            if name == "identifier":
                value = value or self.urn
            elif name == "date":
                value = value.isoformat() if value else ""
            if value:
                rows.append((name, self._meta.get_field(name).verbose_name, str(value)))
        return rows


class VenueIndexPage(IndexPage):
    subpage_types = ["cms_pages.VenuePage"]
    child_ordering = ("title",)

    class Meta:
        verbose_name = "场馆列表"
        verbose_name_plural = "场馆列表"

    @property
    def child_model(self):
        return VenuePage


def _coordinate(label: str, limit: int):
    message = f"{label}必须在 -{limit} 到 {limit} 之间"
    return models.DecimalField(
        label,
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-limit), message), MaxValueValidator(Decimal(limit), message)],
    )


class VenuePage(BasePage):
    """场馆导航: where it is, when it opens, its rooms and accessibility."""

    address = models.CharField("地址", max_length=255)
    latitude = _coordinate("纬度", 90)
    longitude = _coordinate("经度", 180)
    opening_hours = models.TextField("开放时间", blank=True, help_text="每行一条，如：周二至周日 9:00–17:00")
    phone = models.CharField("联系电话", max_length=50, blank=True)
    accessibility = models.TextField("无障碍设施", blank=True, help_text="每行一条，如：无障碍坡道、无障碍卫生间")

    content_panels = [
        *Page.content_panels,
        FieldPanel("address"),
        FieldRowPanel([FieldPanel("latitude"), FieldPanel("longitude")]),
        FieldPanel("opening_hours"),
        FieldPanel("phone"),
        FieldPanel("accessibility"),
        InlinePanel("rooms", label="功能室", heading="功能室"),
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldPanel("body"),
    ]
    search_text_fields = ("address", "accessibility")
    parent_page_types = ["cms_pages.VenueIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "场馆"
        verbose_name_plural = "场馆"

    def clean(self):
        super().clean()
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": "纬度和经度须同时填写"})

    @property
    def map_url(self) -> str:
        """An OpenStreetMap link (no third-party script on the page)."""
        if self.latitude is None or self.longitude is None:
            return ""
        return (
            f"https://www.openstreetmap.org/?mlat={self.latitude}&mlon={self.longitude}"
            f"#map=17/{self.latitude}/{self.longitude}"
        )

    @property
    def amap_url(self) -> str:
        """高德地图 at the venue (its WGS-84 position converted to GCJ-02: themes.geo)."""
        if self.latitude is None or self.longitude is None:
            return ""
        from themes.geo import amap_url

        return amap_url(self.latitude, self.longitude, self.title)

    @property
    def baidu_url(self) -> str:
        """百度地图 at the venue (its WGS-84 position converted to BD-09: themes.geo)."""
        if self.latitude is None or self.longitude is None:
            return ""
        from themes.geo import baidu_url

        return baidu_url(self.latitude, self.longitude, self.title, self.address)

    def opening_hours_lines(self) -> list[str]:
        return [line.strip() for line in self.opening_hours.splitlines() if line.strip()]

    def accessibility_lines(self) -> list[str]:
        return [line.strip() for line in self.accessibility.splitlines() if line.strip()]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["rooms"] = list(self.rooms.all())
        # Activities name the original venue (or its translation): any version of this one.
        upcoming = ActivityPage.upcoming().filter(venue__translation_key=self.translation_key)
        context["activities"] = in_reading_locale(upcoming)[:5]
        return context


class VenueRoom(Orderable):
    page = ParentalKey(VenuePage, on_delete=models.CASCADE, related_name="rooms", verbose_name="场馆")
    name = models.CharField("名称", max_length=100)
    capacity = models.PositiveIntegerField("容纳人数", null=True, blank=True)
    description = models.TextField("简介", blank=True)

    panels = [FieldPanel("name"), FieldPanel("capacity"), FieldPanel("description")]

    class Meta(Orderable.Meta):
        verbose_name = "功能室"
        verbose_name_plural = "功能室"

    def __str__(self) -> str:
        return self.name


class PeriodPage(BasePage):
    """Common parts of live streams and campaigns (abstract): an intro and a start/end."""

    intro = models.TextField("简介", blank=True)
    start = models.DateTimeField("开始时间")
    end = models.DateTimeField("结束时间")

    parent_page_types = ["cms_pages.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        _check_period(self)

    @property
    def status(self) -> str:
        now = timezone.now()
        if now < self.start:
            return "upcoming"
        return "ended" if now > self.end else "live"

    @property
    def status_label(self) -> str:
        return {"upcoming": "即将开始", "live": "进行中", "ended": "已结束"}[self.status]


class LiveStreamPage(PeriodPage):
    """A broadcast: upcoming, live or ended by its schedule, or by a staff switch (`broadcast`).

    An HLS address (.m3u8) plays in the page's own player; any other address is a link out.
    Live comments (live.consumers) are open while it is live and `comment_grace_minutes` after.
    """

    BROADCAST_CHOICES = [
        ("schedule", "按时间表"),
        ("live", "直播中（手动开始）"),
        ("ended", "已结束（手动结束）"),
    ]

    stream_url = models.CharField(
        "直播地址",
        max_length=500,
        blank=True,
        validators=[validate_media_address],
        help_text="HLS 直播流（.m3u8，本站播放器播放）或直播平台播放页地址；本站文件可填 /media/ 开头的地址",
    )
    replay_url = models.CharField(
        "回放地址",
        max_length=500,
        blank=True,
        validators=[validate_media_address],
        help_text="直播结束后播放的回放（.m3u8 / .mp4）或回放页地址",
    )
    broadcast = models.CharField(
        "直播状态",
        max_length=10,
        choices=BROADCAST_CHOICES,
        default="schedule",
        help_text="默认按开始、结束时间自动切换；现场提前开播或延时结束时可手动切换",
    )
    comments_enabled = models.BooleanField("开放直播评论", default=True)
    comment_grace_minutes = models.PositiveSmallIntegerField(
        "结束后评论保留（分钟）", default=10, validators=[MaxValueValidator(240, "最多 240 分钟")]
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldRowPanel([FieldPanel("start"), FieldPanel("end")]),
        FieldPanel("broadcast"),
        FieldPanel("stream_url"),
        FieldPanel("replay_url"),
        FieldRowPanel([FieldPanel("comments_enabled"), FieldPanel("comment_grace_minutes")]),
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldPanel("body"),
    ]

    class Meta:
        verbose_name = "直播"
        verbose_name_plural = "直播"

    @property
    def status(self) -> str:
        if self.broadcast in ("live", "ended"):
            return self.broadcast
        return super().status

    @property
    def ended_at(self):
        """When the broadcast ended: the schedule's end, or when staff published the switch to 已结束."""
        if self.broadcast == "ended":
            return self.last_published_at or self.end
        return self.end

    def comments_open(self, now=None) -> bool:
        """Live comments are accepted while live, and for the grace period after the end."""
        if not self.comments_enabled:
            return False
        status = self.status
        if status == "live":
            return True
        if status == "ended":
            now = now or timezone.now()
            return now <= self.ended_at + timedelta(minutes=self.comment_grace_minutes)
        return False

    def get_context(self, request, *args, **kwargs):
        from live import services as live_services

        context = super().get_context(request, *args, **kwargs)
        # Rendered into the page too: without websockets the comments are still there to read.
        context["live_comments"] = live_services.visible_comments(self)
        context["pinned_comment"] = live_services.pinned_comment(self)
        context["playback_url"] = url = self.stream_url if self.status != "ended" else self.replay_url
        context["playback_is_video"] = bool(url) and self.is_video_file(url)
        return context

    @staticmethod
    def is_hls(url: str) -> bool:
        return url.split("?", 1)[0].lower().endswith(".m3u8")

    @staticmethod
    def is_video_file(url: str) -> bool:
        return url.split("?", 1)[0].lower().endswith((".m3u8", ".mp4", ".webm"))


class CampaignPage(PeriodPage):
    """A public vote (投票): entries (campaigns.CampaignEntry), voted for between `start` and `end`.

    The rules are the tenant's: votes per person per day, per entry per day, real name or not,
    tallies live or as of midnight, and an optional expert/public weighting.
    """

    TALLY_CHOICES = [("live", "实时公布"), ("daily", "每日零点公布")]

    rules = RichTextField("活动规则", blank=True)
    daily_vote_limit = models.PositiveSmallIntegerField(
        "每人每天限投票数",
        default=2,
        validators=[MinValueValidator(1, "每人每天至少可投 1 票"), MaxValueValidator(50, "每人每天最多 50 票")],
    )
    entry_daily_vote_limit = models.PositiveSmallIntegerField(
        "每人每天对同一作品限投",
        default=1,
        validators=[MinValueValidator(1, "至少可投 1 票"), MaxValueValidator(50, "最多 50 票")],
    )
    real_name_required = models.BooleanField("投票须实名", default=False, help_text="只有完成实名信息的账号可以投票")
    tally_mode = models.CharField("票数公布方式", max_length=10, choices=TALLY_CHOICES, default="live")
    expert_weight = models.PositiveSmallIntegerField(
        "专家评审权重（%）",
        default=0,
        validators=[MaxValueValidator(100, "权重不能超过 100%")],
        help_text="0 表示只看大众投票；例如 40 表示综合得分 = 专家得票占比×40% + 大众得票占比×60%",
    )
    submission_start = models.DateTimeField("作品征集开始", null=True, blank=True)
    submission_end = models.DateTimeField("作品征集截止", null=True, blank=True, help_text="留空表示不接受网上报送作品")

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldRowPanel([FieldPanel("start", heading="投票开始"), FieldPanel("end", heading="投票截止")]),
        FieldRowPanel([FieldPanel("submission_start"), FieldPanel("submission_end")]),
        FieldPanel("rules"),
        FieldRowPanel([FieldPanel("daily_vote_limit"), FieldPanel("entry_daily_vote_limit")]),
        FieldRowPanel([FieldPanel("real_name_required"), FieldPanel("tally_mode"), FieldPanel("expert_weight")]),
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldPanel("body"),
    ]

    class Meta:
        verbose_name = "征集投票活动"
        verbose_name_plural = "征集投票活动"

    def clean(self):
        super().clean()
        if self.submission_start and self.submission_end and self.submission_end <= self.submission_start:
            raise ValidationError({"submission_end": "作品征集截止时间必须晚于开始时间"})

    def get_context(self, request, *args, **kwargs):
        from campaigns import services as campaign_services

        context = super().get_context(request, *args, **kwargs)
        rows, as_of = campaign_services.published_tally(self)
        entries = {e.pk: e for e in self.entries.filter(status="approved").select_related("image", "media")}
        context["tally_rows"] = [(row, entries[row.entry_id]) for row in rows if row.entry_id in entries]
        for row in rows:
            if row.entry_id in entries:
                entries[row.entry_id].public_votes_shown = row.public_votes
        context["entries"] = sorted(entries.values(), key=lambda e: e.number)
        context["tally_as_of"] = as_of
        context["votes_left"] = campaign_services.votes_left_today(self, request.user)
        return context

    def voting_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.start <= now <= self.end

    def submissions_open(self, now=None) -> bool:
        now = now or timezone.now()
        return bool(
            self.submission_start and self.submission_end and self.submission_start <= now <= self.submission_end
        )


class MembersOnlyRestriction(models.Model):
    """Narrows a "signed in" page restriction to members of this site (仅本站成员).

    Accounts are platform-wide: Wagtail's own "signed in" restriction admits anyone with a Culture
    Cloud account, whichever site they registered on. With this row the restriction only admits
    people who are members of this site (`roles.services.members()`); see docs/privacy.md.
    """

    restriction = models.OneToOneField(
        "wagtailcore.PageViewRestriction", on_delete=models.CASCADE, related_name="members_only"
    )

    class Meta:
        verbose_name = "仅本站成员可见"
        verbose_name_plural = "仅本站成员可见"

    def __str__(self) -> str:
        return f"members only: page {self.restriction.page_id}"
