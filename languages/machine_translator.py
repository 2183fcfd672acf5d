"""wagtail-localize's "machine translate" button for Simplified → Traditional Chinese (OpenCC)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail_localize.machine_translators.base import BaseMachineTranslator
from wagtail_localize.strings import StringValue

from core.scripts import to_traditional


class OpenCCTranslator(BaseMachineTranslator):
    display_name = _("简繁转换（OpenCC）")

    def translate(self, source_locale, target_locale, strings):
        return {string: StringValue(to_traditional(string.data)) for string in strings}

    def can_translate(self, source_locale, target_locale):
        return source_locale.language_code == "zh-hans" and target_locale.language_code == "zh-hant"
