"""Template tags for lists that mix translated pages and originals not translated yet."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import translation
from wagtail.templatetags.wagtailcore_tags import pageurl

register = template.Library()


def in_reading_language(url: str) -> str:
    """`url` of an original (zh-Hans) page, under the language being read: `/news/x/` → `/en/news/x/`.

    There the page's translated home serves the original with a "not translated yet" note
    (cms_pages.models.HomePage.route), and the visitor stays in their language. No query."""
    current = translation.get_language()
    if not current or current == settings.LANGUAGE_CODE or not url.startswith("/") or url.startswith("//"):
        return url
    with translation.override(settings.LANGUAGE_CODE):
        try:
            match = resolve(url)
        except Resolver404:
            return url
    return reverse(match.view_name, args=match.args, kwargs=match.kwargs)


@register.simple_tag(takes_context=True)
def listed_url(context, page) -> str:
    """`{% pageurl page %}`, or for an original listed in place of a missing translation
    (`untranslated`, cms_pages.models.in_reading_language) its address in the reader's language."""
    url = pageurl(context, page)
    if getattr(page, "untranslated", False):
        return in_reading_language(url)
    return url


@register.simple_tag
def home_url() -> str:
    """The site's home in the language being read: `/`, `/en/`, `/zh-hant/`."""
    try:
        return reverse("wagtail_serve", args=("",))
    except NoReverseMatch:  # a host without Wagtail's pages (the platform host)
        return "/"


OG_LOCALES = {"zh-hans": "zh_CN", "zh-hant": "zh_TW", "en": "en_US", "bo": "bo_CN", "ug": "ug_CN", "mn": "mn_CN"}


@register.filter
def og_locale(language: str) -> str:
    """Open Graph's locale (language_TERRITORY) for a language code."""
    return OG_LOCALES.get((language or "").lower(), "zh_CN")
