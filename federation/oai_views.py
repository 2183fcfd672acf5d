"""OAI-PMH 2.0 endpoint at /oai/ on every tenant host: a thin wrapper around `federation.oai`."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import oai

XML = "text/xml; charset=utf-8"


@csrf_exempt
@transaction.non_atomic_requests  # a read: POST is only another way to send the arguments
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint(request):
    if request.method == "POST" and request.content_type != "application/x-www-form-urlencoded":
        arguments = None  # unreadable: oai answers badArgument naming the content type
    else:
        query = request.POST if request.method == "POST" else request.GET
        arguments = {name: query.getlist(name) for name in query}
    repository = oai.repository_for(request.tenant)
    return HttpResponse(oai.serve(repository, arguments), content_type=XML)


@require_GET
def culture_schema(request):
    """The XML Schema of the `culture` metadata format."""
    return HttpResponse(oai.CULTURE_XSD.encode(), content_type=XML)
