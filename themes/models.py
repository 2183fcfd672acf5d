"""Per-tenant branding within the shared theme: data edited in the Wagtail admin, never code."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_noop
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import StreamField

from .colour import AA_NORMAL_TEXT, THEME_BACKGROUND, THEME_TEXT, contrast_ratio

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "请输入 #RRGGBB 格式的颜色，例如 #B22222。")

# The home page's service entrances (服务入口), in their default order: key → label. Which are
# shown depends on what the site has (themes.services.service_entrances).
SERVICE_CHOICES = [
    ("activities", gettext_noop("活动预约")),
    ("venues", gettext_noop("场馆预定")),
    ("resources", gettext_noop("数字资源")),
    ("training", gettext_noop("在线培训")),
    ("volunteers", gettext_noop("志愿服务")),
    ("live", gettext_noop("直播")),
    ("vote", gettext_noop("投票")),
    ("demand", gettext_noop("需求征集")),
]


class ServiceEntranceBlock(blocks.StructBlock):
    service = blocks.ChoiceBlock(choices=SERVICE_CHOICES, label="服务")
    label = blocks.CharBlock(label="显示名称", required=False, max_length=12, help_text="留空则用默认名称")

    class Meta:
        label = "服务入口"
        icon = "link"


@register_setting(icon="image")
class Branding(BaseSiteSetting):
    site_name = models.CharField("站点名称", max_length=100)
    site_name_en = models.CharField(
        "英文站点名称",
        max_length=100,
        blank=True,
        help_text="英文页面（/en/）的页头、标题和分享信息中显示，如：Zhejiang Culture Cloud；"
        "留空则显示中文名称。繁体中文名称由中文名称自动转换。",
    )
    short_name = models.CharField("简称", max_length=30, blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name="标志",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="显示在页头，也用作浏览器标签页图标；建议使用方形或横向透明背景图片",
    )
    primary_colour = models.CharField(
        "主色",
        max_length=7,
        default="#B22222",
        validators=[hex_colour],
        help_text="页头背景和链接的颜色；须与白色文字对比度不低于 4.5:1",
    )
    accent_colour = models.CharField(
        "辅助色",
        max_length=7,
        default="#C8A060",
        validators=[hex_colour],
        help_text="标签背景和焦点框的颜色；须与正文深色文字对比度不低于 4.5:1",
    )
    footer_text = models.TextField("页脚文字", blank=True)

    # The footer as Chinese government-facing sites have it.
    host_organisation = models.CharField("主办单位", max_length=200, blank=True)
    operator_organisation = models.CharField("承办单位", max_length=200, blank=True)
    contact_phone = models.CharField("联系电话", max_length=50, blank=True)
    contact_email = models.EmailField("联系邮箱", blank=True)
    address = models.CharField("地址", max_length=255, blank=True)
    icp_number = models.CharField(
        "ICP 备案号",
        max_length=50,
        blank=True,
        help_text="如：浙ICP备12345678号-1；链接到工业和信息化部政务服务平台",
    )
    police_number = models.CharField(
        "公安备案号",
        max_length=50,
        blank=True,
        help_text="如：浙公网安备33010602000001号；链接到全国互联网安全管理服务平台",
    )
    service_entrances = StreamField(
        [("entrance", ServiceEntranceBlock())],
        verbose_name="首页服务入口",
        blank=True,
        help_text="拖动调整顺序；留空则按默认顺序显示全部。本站尚未开通的服务不会显示。",
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("site_name"), FieldPanel("site_name_en"), FieldPanel("short_name"), FieldPanel("logo")],
            heading="站点",
        ),
        MultiFieldPanel([FieldPanel("primary_colour"), FieldPanel("accent_colour")], heading="颜色"),
        FieldPanel("service_entrances"),
        MultiFieldPanel(
            [
                FieldPanel("host_organisation"),
                FieldPanel("operator_organisation"),
                FieldPanel("contact_phone"),
                FieldPanel("contact_email"),
                FieldPanel("address"),
                FieldPanel("icp_number"),
                FieldPanel("police_number"),
                FieldPanel("footer_text"),
            ],
            heading="页脚",
        ),
    ]

    class Meta:
        verbose_name = "站点品牌"

    def clean(self):
        """Refuse brand colours that would make the theme's text unreadable (WCAG 2 AA, 4.5:1)."""
        super().clean()
        errors = {}
        checks = [
            ("primary_colour", "主色", THEME_BACKGROUND, "白色文字（页头）和白色背景上的链接", "更深"),
            ("accent_colour", "辅助色", THEME_TEXT, "深色正文文字（标签）", "更浅"),
        ]
        for field, label, against, where, advice in checks:
            value = getattr(self, field) or ""
            if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
                continue  # the format validator reports it
            ratio = contrast_ratio(value, against)
            if ratio < AA_NORMAL_TEXT:
                errors[field] = (
                    f"{label} {value} 与{where}的对比度只有 {ratio:.1f}:1，"
                    f"低于无障碍标准（WCAG 2 AA）要求的 {AA_NORMAL_TEXT}:1，请选择{advice}的颜色。"
                )
        if errors:
            raise ValidationError(errors)

    def name_in(self, language: str | None) -> str:
        """The site's name in `language`: the English name under English (when filled in), the
        Chinese name converted to Traditional characters under zh-Hant, else the Chinese name."""
        code = (language or "").lower()
        if code.startswith("en") and self.site_name_en:
            return self.site_name_en
        if code in ("zh-hant", "zh-tw", "zh-hk"):
            from core.scripts import to_traditional

            return to_traditional(self.site_name)
        return self.site_name

    @property
    def local_name(self) -> str:
        """The site's name in the language being read (`name_in`)."""
        from django.utils.translation import get_language

        return self.name_in(get_language())

    @property
    def police_record_code(self) -> str:
        """The digits of the 公安备案号, which the national registry's search link takes."""
        return "".join(re.findall(r"\d", self.police_number))
