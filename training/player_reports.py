"""The video player's progress reports, answered in front of Django's request handling (decision 0025).

Every trainee with a video open reports every 10 seconds: on launch day of a national course that is
hundreds of reports a second, each a tiny JSON POST whose real work is one locked row update
(`services.record_progress`). Through Django's whole handler (fifteen middleware, URL resolving,
two thread hops per request) a report cost several times the work it does. `PlayerReportsASGI`
answers the ordinary report on its own, with the same rules and the same answers:

* the same host → tenant lookup as the tenant middleware (cached; closed and unknown sites are left
  to Django, which answers them);
* Django's own CSRF check (`CsrfViewMiddleware`) on Django's own request object built from the scope;
* Django's own session (`SESSION_ENGINE`, read from the shared Redis) and `auth.get_user` (the
  session hash is verified, an inactive account is anonymous);
* `services.record_progress` (the row lock, the anti-skip arithmetic, completion) and
  `answer()` below, which the Django view uses too.

Anything else (not signed in, a failed CSRF check, an unknown host, a closed site, a body too big)
is passed to Django untouched, so the unusual cases keep the answers and pages they always had.
It sits inside `core.admission` (bounded requests, pooled connections, 503 instead of 500 when the
database is away).
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from io import BytesIO

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost, PermissionDenied, ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections, connection
from django.utils.translation import gettext as _

from core.security_headers import headers_for_responses_outside_django

from . import services

logger = logging.getLogger(__name__)

# A report is {"session": <32 hex>, "seq": n, "start": x, "end": y}: far below this.
MAX_BODY_BYTES = 4096


@cache
def _path_pattern() -> re.Pattern:
    prefixes = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
    return re.compile(rf"^/(?:(?:{prefixes})/)?training/progress/(?P<progress_id>[0-9]{{1,18}})/$")


def answer(progress_id: int, user, body: bytes) -> tuple[int, dict]:
    """(HTTP status, JSON body) for a signed-in person's report: the view and the fast path share it."""
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        return 400, {"message": "进度报告格式错误。"}
    try:
        outcome = services.record_progress(
            progress_id,
            user=user,
            session=str(data.get("session", "")),
            seq=data.get("seq"),
            start=data.get("start"),
            end=data.get("end"),
        )
    except ValidationError as exc:
        return 400, {"message": "；".join(exc.messages)}
    except PermissionDenied as exc:
        return 404, {"message": str(exc)}
    return (409 if outcome.status == "stale_session" else 200), outcome.as_json()


def not_signed_in() -> tuple[int, dict]:
    return 401, {"message": _("请先登录。")}


class PlayerReportsASGI:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.application(scope, receive, send)
        match = _path_pattern().match(scope.get("path", ""))
        if match is None:
            return await self.application(scope, receive, send)
        body, complete = await _read_body(receive)
        answered = None
        if complete:
            answered = await sync_to_async(_answer_directly, thread_sensitive=False)(
                scope, body, int(match["progress_id"])
            )
        if answered is None:
            return await self.application(scope, _replay(body, complete, receive), send)
        status, payload = answered
        content = json.dumps(payload, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"vary", b"Cookie"),
                    *_security_headers(),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


async def _read_body(receive) -> tuple[bytes, bool]:
    """The request body, and whether it was read to the end within MAX_BODY_BYTES."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), size <= MAX_BODY_BYTES
        if size > MAX_BODY_BYTES:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive):
    """A `receive` that hands Django what was already read, then whatever is still to come."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete and bool(body)}
        return await receive()

    return replay


@cache
def _security_headers() -> tuple[tuple[bytes, bytes], ...]:
    # What the security middleware adds to every Django response (they do not vary per request).
    return tuple(headers_for_responses_outside_django())


@cache
def _middleware():
    from django.middleware.csrf import CsrfViewMiddleware

    from core.middleware import CultureTenantMiddleware

    return CultureTenantMiddleware(_never_called), CsrfViewMiddleware(_never_called)


def _answer_directly(scope, body: bytes, progress_id: int) -> tuple[int, dict] | None:
    """The answer to an ordinary report, or None to let Django's full handling answer it."""
    from django.contrib.auth import get_user
    from django.utils.module_loading import import_string
    from django_tenants.utils import get_public_schema_name, get_tenant_domain_model

    tenants, csrf = _middleware()
    request = ASGIRequest(scope, BytesIO(body))
    try:
        hostname = tenants.hostname_from_request(request)  # validates the host (ALLOWED_HOSTS)
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if not session_key:
            return None
        # The tenant middleware's lookup (host → tenant, cached), run on the public schema.
        connection.set_schema_to_public()
        domain_model = get_tenant_domain_model()
        try:
            tenant = tenants.get_tenant(domain_model, hostname)
        except domain_model.DoesNotExist:
            return None
        if not tenant.is_active or tenant.schema_name == get_public_schema_name():
            return None
        csrf.process_request(request)
        if csrf.process_view(request, _never_called, (), {}) is not None:
            return None  # Django answers the refusal (403) as it always does
        request.session = import_string(f"{settings.SESSION_ENGINE}.SessionStore")(session_key)
        # The tenant's search_path ends in public, where the accounts are: one SET for both queries.
        connection.set_tenant(tenant)
        request.tenant = tenant
        user = get_user(request)
        if not user.is_authenticated:
            return None
        return answer(progress_id, user, body)
    except DisallowedHost:
        return None
    except Exception:
        # Sent to the logs (and Sentry) like any server error; admission turns a 500 caused by the
        # database being away into its 503 page.
        logger.exception("progress report failed")
        return 500, {"message": "服务器出错了，请稍后再试。"}
    finally:
        connection.set_schema_to_public()
        close_old_connections()  # as at the end of a Django request: the connection goes back


def _never_called(request):  # pragma: no cover - the middleware and the CSRF check need a callable
    raise AssertionError
