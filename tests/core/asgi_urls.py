"""A tiny URL configuration for tests/core/test_asgi_handler.py: views with no database."""

import threading

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

EVENTS: list[tuple[str, int]] = []


def plain(request):
    EVENTS.append(("view", threading.get_ident()))
    return HttpResponse("你好")


def streamed(request):
    EVENTS.append(("view", threading.get_ident()))

    def chunks():
        for part in ("一", "二", "三"):
            EVENTS.append((f"chunk {part}", threading.get_ident()))
            yield part

    return StreamingHttpResponse(chunks())


def broken(request):
    EVENTS.append(("view", threading.get_ident()))
    raise ValueError("a defect in a view")


urlpatterns = [path("plain/", plain), path("streamed/", streamed), path("broken/", broken)]
