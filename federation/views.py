"""HTTP endpoints of federation (machine to machine, signed): thin wrappers around inbox.dispatch."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import inbox

MAX_BODY = 20 * 1024 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def endpoint(request):
    if int(request.headers.get("Content-Length") or 0) > MAX_BODY:
        return JsonResponse({"error": "request too large", "code": "too_large"}, status=413)
    status, data = inbox.dispatch(request.method, request.get_full_path(), request.headers, request.body)
    answer = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        answer["WWW-Authenticate"] = 'Culture-HMAC realm="federation"'
    return answer
