from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page


class HomePage(Page):
    """A tenant's home page: the root of its site tree."""

    intro = RichTextField("导语", blank=True)
    body = StreamField(
        [
            ("heading", blocks.CharBlock(label="标题", form_classname="title")),
            ("paragraph", blocks.RichTextBlock(label="正文")),
            ("image", ImageBlock(label="图片")),
        ],
        verbose_name="内容",
        blank=True,
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    max_count_per_parent = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = "首页"
