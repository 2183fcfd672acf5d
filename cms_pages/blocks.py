"""StreamField blocks a culture editor needs, shared by every page body."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop
from wagtail import blocks
from wagtail.blocks import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock

# The national resource categories (全国公共数字文化资源分类).
RESOURCE_CATEGORIES = [
    ("reading", gettext_noop("全民阅读")),
    ("art", gettext_noop("全民艺术普及")),
    ("tradition", gettext_noop("中华优秀传统文化")),
    ("poverty", gettext_noop("文化精准扶贫")),
    ("tourism", gettext_noop("文化旅游")),
    ("mobile", gettext_noop("移动互联网适用")),
]


class HeadingBlock(blocks.CharBlock):
    class Meta:
        label = "小标题"
        icon = "title"
        form_classname = "title"
        template = "cms_pages/blocks/heading.html"


class GalleryBlock(blocks.ListBlock):
    def __init__(self, **kwargs):
        super().__init__(ImageBlock(label="图片"), **kwargs)

    class Meta:
        label = "图集"
        icon = "image"
        template = "cms_pages/blocks/gallery.html"


class VideoBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="视频标题", required=False)
    embed = EmbedBlock(label="外部视频链接", required=False, help_text="如视频网站的播放页地址")
    document = DocumentChooserBlock(label="视频文件", required=False)
    captions = DocumentChooserBlock(label="字幕文件", required=False, help_text="WebVTT 字幕，便于听障用户观看")

    def clean(self, value):
        value = super().clean(value)
        if not value.get("embed") and not value.get("document"):
            raise StructBlockValidationError(
                block_errors={"embed": ValidationError("请填写外部视频链接或选择视频文件")}
            )
        return value

    class Meta:
        label = "视频"
        icon = "media"
        template = "cms_pages/blocks/video.html"


class AudioBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="音频标题")
    document = DocumentChooserBlock(label="音频文件", required=False)
    url = blocks.URLBlock(label="音频地址", required=False)
    transcript = blocks.TextBlock(label="文字稿", required=False)

    def clean(self, value):
        value = super().clean(value)
        if not value.get("document") and not value.get("url"):
            raise StructBlockValidationError(block_errors={"url": ValidationError("请填写音频地址或选择音频文件")})
        return value

    class Meta:
        label = "音频"
        icon = "media"
        template = "cms_pages/blocks/audio.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label="引文")
    attribution = blocks.CharBlock(label="出处", required=False)

    class Meta:
        label = "引用"
        icon = "openquote"
        template = "cms_pages/blocks/quote.html"


class CallToActionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label="说明文字")
    label = blocks.CharBlock(label="按钮文字", default="立即参与")
    page = blocks.PageChooserBlock(label="站内页面", required=False)
    url = blocks.URLBlock(label="外部链接", required=False)

    def clean(self, value):
        value = super().clean(value)
        if not value.get("page") and not value.get("url"):
            raise StructBlockValidationError(block_errors={"page": ValidationError("请选择站内页面或填写外部链接")})
        return value

    class Meta:
        label = "行动号召"
        icon = "pick"
        template = "cms_pages/blocks/call_to_action.html"


class UpcomingActivitiesBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="栏目标题", default="近期活动")
    count = blocks.IntegerBlock(label="显示数量", default=3, min_value=1, max_value=12)

    def get_context(self, value, parent_context=None):
        from .models import ActivityPage, in_reading_locale

        context = super().get_context(value, parent_context=parent_context)
        context["activities"] = in_reading_locale(ActivityPage.upcoming())[: value["count"]]
        return context

    class Meta:
        label = "近期活动列表"
        icon = "date"
        template = "cms_pages/blocks/upcoming_activities.html"


class ResourceListBlock(blocks.StructBlock):
    title = blocks.CharBlock(label="栏目标题", default="数字资源")
    category = blocks.ChoiceBlock(label="资源分类", choices=RESOURCE_CATEGORIES, required=False)
    count = blocks.IntegerBlock(label="显示数量", default=4, min_value=1, max_value=12)

    def get_context(self, value, parent_context=None):
        from .models import ResourcePage, in_reading_locale
        from .privacy import public

        context = super().get_context(value, parent_context=parent_context)
        resources = (
            in_reading_locale(public(ResourcePage.objects.live()))
            .select_related("cover_image")
            .order_by("-first_published_at")
        )
        if value.get("category"):
            resources = resources.filter(category=value["category"])
        context["resources"] = resources[: value["count"]]
        return context

    class Meta:
        label = "数字资源列表"
        icon = "folder-open-inverse"
        template = "cms_pages/blocks/resource_list.html"


def body_blocks() -> list[tuple[str, blocks.Block]]:
    """The blocks of every page body (a fresh list: StreamField binds its blocks)."""
    return [
        ("heading", HeadingBlock()),
        ("paragraph", blocks.RichTextBlock(label="正文", template="cms_pages/blocks/paragraph.html")),
        ("image", ImageBlock(label="图片", template="cms_pages/blocks/image.html")),
        ("gallery", GalleryBlock()),
        ("video", VideoBlock()),
        ("audio", AudioBlock()),
        ("quote", QuoteBlock()),
        ("call_to_action", CallToActionBlock()),
        ("upcoming_activities", UpcomingActivitiesBlock()),
        ("resource_list", ResourceListBlock()),
    ]
