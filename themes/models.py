"""Per-tenant branding within the shared theme: data edited in the Wagtail admin, never code."""

from django.core.validators import RegexValidator
from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "请输入 #RRGGBB 格式的颜色，例如 #B22222。")


@register_setting(icon="image")
class Branding(BaseSiteSetting):
    site_name = models.CharField("站点名称", max_length=100)
    short_name = models.CharField("简称", max_length=30, blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name="标志",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    primary_colour = models.CharField("主色", max_length=7, default="#B22222", validators=[hex_colour])
    accent_colour = models.CharField("辅助色", max_length=7, default="#C8A060", validators=[hex_colour])
    footer_text = models.TextField("页脚文字", blank=True)

    panels = [
        FieldPanel("site_name"),
        FieldPanel("short_name"),
        FieldPanel("logo"),
        FieldPanel("primary_colour"),
        FieldPanel("accent_colour"),
        FieldPanel("footer_text"),
    ]

    class Meta:
        verbose_name = "站点品牌"
