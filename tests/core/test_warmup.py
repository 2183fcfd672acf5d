"""core.warmup: a new web process fills Django's lazy caches before its first request."""

from __future__ import annotations

import gc

import pytest
from django.conf import settings
from django.template import engines
from django.urls import URLResolver, clear_url_caches, get_resolver, reverse
from django.utils import translation

from core import warmup
from core.asgi_handler import get_asgi_application


@pytest.fixture
def cold():
    """A process as it starts: no URL resolver filled, no template compiled."""
    clear_url_caches()
    engines["django"].engine.template_loaders[0].reset()
    yield
    clear_url_caches()
    gc.unfreeze()  # get_asgi_application froze the test process's objects too


def populations(monkeypatch) -> list[str]:
    filled = []
    original = URLResolver._populate

    def counted(self):
        filled.append(translation.get_language())
        return original(self)

    monkeypatch.setattr(URLResolver, "_populate", counted)
    return filled


def test_the_asgi_application_starts_with_every_language_reverse_table_filled(cold, monkeypatch):
    get_asgi_application()
    filled = populations(monkeypatch)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reverse("healthz")
            get_resolver(settings.PUBLIC_SCHEMA_URLCONF).reverse_dict  # noqa: B018
    assert filled == [], "a first request would have walked the URL patterns again"


def test_a_cold_process_fills_them_on_its_first_requests(cold, monkeypatch):
    # The mirror of the test above, so that one means something.
    filled = populations(monkeypatch)
    with translation.override("en"):
        reverse("healthz")
    assert "en" in filled


def test_the_project_templates_are_compiled_in_advance(cold):
    loader = engines["django"].engine.template_loaders[0]
    assert loader.get_template_cache == {}
    compiled = warmup.warm_templates()
    names = warmup.project_template_names()
    assert compiled == len(names) > 100
    assert {"bookings/session_detail.html", "themes/base.html"} <= set(loader.get_template_cache)
