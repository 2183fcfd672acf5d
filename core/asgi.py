import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.dev")

from core.asgi_handler import get_asgi_application  # noqa: E402 (sets Django up)

# Django's ASGI handler, with its middleware chain and the view run in one thread hop (core.asgi_handler).
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.admission import AdmissionControl  # noqa: E402
from core.database import pool  # noqa: E402
from core.page_cache import PageCacheASGI  # noqa: E402
from core.websockets import TenantWebsocketMiddleware  # noqa: E402
from core.ws_routing import websocket_urlpatterns  # noqa: E402
from training.player_reports import PlayerReportsASGI  # noqa: E402

# The web server's request threads share one bounded pool of connections (decision 0010).
pool.enable()

application = ProtocolTypeRouter(
    {
        # Full-page cache hits are answered first, before Django's request handling (core.page_cache),
        # and so keep being served when the database is busy or away; everything else passes the
        # front door: a bounded number of requests (and pooled connections) inside Django (core.admission).
        # The video player's progress reports, hundreds a second, are answered in front of Django's
        # handler with the same rules (training.player_reports, decision 0025).
        "http": PageCacheASGI(AdmissionControl(PlayerReportsASGI(django_application))),
        # Host → tenant first, then the platform session cookie → scope["user"] (core.websockets).
        "websocket": TenantWebsocketMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
