"""WCAG 2.x contrast between two sRGB colours (#RRGGBB), for checking a tenant's brand colours."""

from __future__ import annotations

AA_NORMAL_TEXT = 4.5

# The theme's fixed colours the brand colours are drawn with (themes/static/themes/culture.css):
# the primary colour is the header's background under white text and the colour of links on the
# white page; the accent colour is the background of tags under the body text colour.
THEME_BACKGROUND = "#FFFFFF"
THEME_TEXT = "#1F1F1F"


def relative_luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
