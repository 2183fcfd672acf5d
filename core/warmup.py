"""Work every web process would otherwise do inside its first requests, done once at start-up.

Django fills two caches lazily, on the first request that needs them, with no lock: the URL
resolvers' reverse tables (one per language: the first `reverse()` or `{% url %}` in each of the
platform's eight languages walks every URL pattern, Wagtail's admin included) and the compiled
templates (the cached loader). A process that starts during a rush — a deploy, a restart while a
popular session opens for booking — has its first twenty requests do that work twenty times over,
in parallel, fighting for the GIL: measured with py-spy under bench/bookings.py, the resolvers alone
were an eighth of a cold process's CPU over its first few seconds. `warm()` runs in core/asgi.py
before daphne listens, so the first request is served like the thousandth.

`freeze_start_up_objects()` then moves everything start-up made (Django, Wagtail, every app, the
warmed caches: several hundred thousand objects) out of the garbage collector's sight. They live
as long as the process, yet each full collection walked them all again: measured during the
first 200 bookings of a fresh process (bench/bookings.py, `gc.callbacks`), collections took
420–480 ms of each web process's CPU, 65–86 ms once frozen (the approach of CPython's
`gc.freeze` documentation for pre-fork servers and of Instagram's Django fleet).
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

logger = logging.getLogger(__name__)


def url_configurations() -> list[str]:
    """The URL configurations requests are resolved with: the tenants' sites and the platform's."""
    return list(dict.fromkeys(filter(None, [settings.ROOT_URLCONF, getattr(settings, "PUBLIC_SCHEMA_URLCONF", None)])))


def warm_url_resolvers() -> None:
    for urlconf in url_configurations():
        resolver = get_resolver(urlconf)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                resolver.reverse_dict  # noqa: B018 - fills the language's reverse, namespace and app tables


def project_template_names() -> list[str]:
    """The names of this project's own templates (the theme's and every app's, not third parties')."""
    root = Path(settings.BASE_DIR)
    folders = [Path(folder) for engine in settings.TEMPLATES for folder in engine.get("DIRS", [])]
    folders += sorted(root.glob("*/templates"))
    names = []
    for folder in folders:
        names += [path.relative_to(folder).as_posix() for path in sorted(folder.rglob("*.html"))]
    return list(dict.fromkeys(names))


def warm_templates() -> int:
    """Compile the project's templates into the cached loader; the number compiled."""
    engine = engines["django"]
    compiled = 0
    for name in project_template_names():
        try:
            engine.get_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError):
            # A fragment that only parses inside its parent, or a name another folder shadows:
            # it is compiled on first use, as without the warm-up.
            continue
        compiled += 1
    return compiled


def warm() -> None:
    started = time.perf_counter()
    warm_url_resolvers()
    templates = warm_templates()
    logger.info(
        "Warmed up in %.0f ms: URL resolvers for %d languages, %d templates.",
        (time.perf_counter() - started) * 1000,
        len(settings.LANGUAGES),
        templates,
    )


def freeze_start_up_objects() -> None:
    gc.collect()
    gc.freeze()
