import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.dev")

django_application = get_asgi_application()

from core.page_cache import PageCacheASGI  # noqa: E402 (needs Django set up first)

# Full-page cache hits are answered here, before Django's request handling (core.page_cache).
application = PageCacheASGI(django_application)
