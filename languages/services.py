"""Pages in other languages: Traditional Chinese kept in sync automatically, others translated by
editors through wagtail-localize (docs/languages.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from wagtail.models import Locale, Page

from core.scripts import to_traditional

TRADITIONAL = "zh-hant"
TOOL_NAME = "OpenCC"


_LOCALE_CODES: dict[tuple[str, int], str | None] = {}  # (schema, locale id) → code; a locale keeps its code


def is_original_language(page) -> bool:
    """Whether the page is in the site's original language (zh-Hans), not a translation.

    No query after the first time a locale is seen in a schema (publishing calls this).
    """
    if not page.locale_id:
        return True
    key = (connection.schema_name, page.locale_id)
    if key not in _LOCALE_CODES:
        _LOCALE_CODES[key] = Locale.objects.filter(pk=page.locale_id).values_list("language_code", flat=True).first()
    return _LOCALE_CODES[key] in (None, settings.LANGUAGE_CODE)


def _translation_models():
    from wagtail_localize.models import StringSegment, StringTranslation, Translation, TranslationSource

    return StringSegment, StringTranslation, Translation, TranslationSource


def sync_traditional(page: Page) -> Page | None:
    """Create or update the zh-Hant version of a live Simplified page, converted with OpenCC.

    Strings an editor corrected in wagtail-localize's editor (manual translations) are kept while
    their Simplified source is unchanged; everything else is converted again. The zh-Hant page is
    published: readers see it at once, editors refine it. Returns it, or None when the site has no
    zh-Hant or the page is not a live Simplified page.
    """
    page = page.specific
    if not page.live or page.locale.language_code != settings.LANGUAGE_CODE:
        return None
    locale = Locale.objects.filter(language_code=TRADITIONAL).first()
    if locale is None:
        return None
    StringSegment, StringTranslation, Translation, TranslationSource = _translation_models()
    existing = page.get_translation_or_none(locale)
    if existing is not None and existing.live and _is_current(existing, page):
        return existing  # already in sync
    parent = page.get_parent().specific
    if parent.depth > 1 and parent.locale_id == page.locale_id and not parent.has_translation(locale):
        sync_traditional(parent)  # the tree first: a zh-Hant page needs a zh-Hant parent
    with transaction.atomic():
        source, _ = TranslationSource.update_or_create_from_instance(page)
        translation, _ = Translation.objects.get_or_create(
            source=source, target_locale=locale, defaults={"enabled": True}
        )
        segments = StringSegment.objects.filter(source=source).select_related("string", "context")
        manual = set(
            StringTranslation.objects.filter(
                locale=locale,
                translation_of__in=[s.string_id for s in segments],
                translation_type=StringTranslation.TRANSLATION_TYPE_MANUAL,
            ).values_list("translation_of_id", "context_id")
        )
        for segment in segments:
            if (segment.string_id, segment.context_id) in manual:
                continue
            StringTranslation.objects.update_or_create(
                translation_of=segment.string,
                locale=locale,
                context=segment.context,
                defaults={
                    "data": to_traditional(segment.string.data),
                    "translation_type": StringTranslation.TRANSLATION_TYPE_MACHINE,
                    "tool_name": TOOL_NAME,
                    "last_translated_by": None,
                    "has_error": False,
                    "field_error": "",
                },
            )
        _save_and_publish(source, locale)
    return page.get_translation(locale)


def sync_traditional_site() -> int:
    """Every live Simplified page of this site in zh-Hant (tree order); returns how many."""
    count = 0
    pages = Page.objects.live().filter(locale__language_code=settings.LANGUAGE_CODE, depth__gt=1).order_by("path")
    for page in pages:
        if sync_traditional(page) is not None:
            count += 1
    return count


def translate_page(page: Page, language: str, strings: dict[str, str]) -> Page | None:
    """Translate a live Simplified page through wagtail-localize with the given strings (source
    text → translation); strings not given stay in Chinese until an editor translates them.

    Nothing happens when the translation is already newer than the source (idempotent).
    """
    StringSegment, StringTranslation, Translation, TranslationSource = _translation_models()
    page = page.specific
    locale = Locale.objects.filter(language_code=language).first()
    if locale is None or not page.live:
        return None
    existing = page.get_translation_or_none(locale)
    if existing is not None and existing.live and _is_current(existing, page):
        return existing
    with transaction.atomic():
        source, _ = TranslationSource.update_or_create_from_instance(page)
        translation, _ = Translation.objects.get_or_create(
            source=source, target_locale=locale, defaults={"enabled": True}
        )
        for segment in StringSegment.objects.filter(source=source).select_related("string", "context"):
            text = strings.get(segment.string.data.strip())
            if text is None:
                continue
            StringTranslation.objects.update_or_create(
                translation_of=segment.string,
                locale=locale,
                context=segment.context,
                defaults={"data": text, "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL},
            )
        _save_and_publish(source, locale)
    return page.get_translation(locale)


def _save_and_publish(source, locale: Locale) -> Page:
    """The translated page saved from the strings now in translation memory, and published now
    (wagtail-localize's own publish waits for the outermost commit)."""
    translated, _ = source.create_or_update_translation(locale, publish=False, fallback=True, copy_parent_pages=True)
    translated.get_latest_revision().publish()
    return translated


def _is_current(translated: Page, source: Page) -> bool:
    return bool(
        translated.last_published_at
        and source.last_published_at
        and translated.last_published_at >= source.last_published_at
    )
