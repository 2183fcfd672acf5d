"""HTTP endpoints of federation (machine to machine, signed): thin wrappers around inbox.dispatch."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import inbox

DEFAULT_MAX_BODY = 20 * 1024 * 1024


def max_body_bytes() -> int:
    """The largest request body accepted (FEDERATION_MAX_BODY_BYTES, 20 MB by default): the limit
    docs/federation.md names. Read here rather than through `request.body`, whose own limit
    (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB) would otherwise be the one enforced."""
    return int(getattr(settings, "FEDERATION_MAX_BODY_BYTES", DEFAULT_MAX_BODY))


def _too_large(limit: int) -> JsonResponse:
    return JsonResponse({"error": f"request body larger than {limit} bytes", "code": "too_large"}, status=413)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def endpoint(request):
    limit = max_body_bytes()
    declared = request.headers.get("Content-Length") or "0"
    if not declared.isascii() or not declared.isdigit():
        return JsonResponse({"error": "Content-Length: not a number", "code": "bad_request"}, status=400)
    if int(declared) > limit:
        return _too_large(limit)
    body = request.read(limit + 1)
    if len(body) > limit:
        return _too_large(limit)
    status, data = inbox.dispatch(request.method, request.get_full_path(), request.headers, body)
    answer = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        answer["WWW-Authenticate"] = 'Culture-HMAC realm="federation"'
    return answer
