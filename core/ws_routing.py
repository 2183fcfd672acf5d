"""Websocket URLs of tenant hosts. Each feature app lists its own in `<app>/routing.py`.

Kept apart from core/asgi.py so tests can build the same stack around communicators; core
imports the feature apps' routing by name only here, at the edge of the application.
"""

from django.conf import settings
from django.utils.module_loading import import_string

websocket_urlpatterns = [pattern for module in settings.WEBSOCKET_URLPATTERNS for pattern in import_string(module)]
