"""Public pages of the national catalogue: thin views over federation.catalogue."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import catalogue
from .models import Record


def _national_only() -> None:
    if not catalogue.is_catalogue_site():
        raise Http404("只有国家平台提供资源总目录。")


@require_safe
def catalogue_list(request):
    _national_only()
    outcome = catalogue.search_catalogue(request.GET, request.GET.get("page", 1))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "federation/catalogue.html",
        {
            "outcome": outcome,
            "kinds": catalogue.KIND_LABELS,
            "categories": catalogue.category_labels(),
            "params": request.GET,
            "page_query": params.urlencode(),
        },
    )


@require_safe
def catalogue_detail(request, uid):
    _national_only()
    record = catalogue.get_record(uid)
    if record is None or record.status == Record.Status.UNPUBLISHED:
        raise Http404("目录中没有这个条目。")
    if record.status == Record.Status.DELETED:
        return render(request, "federation/catalogue_gone.html", {"record": record}, status=410)
    envelope = record.envelope or {}
    return render(
        request,
        "federation/catalogue_detail.html",
        {
            "record": record,
            "summary": (envelope.get("payload") or {}).get("summary", ""),
            "attribution": envelope.get("attribution") or f"来源：{record.origin_name}",
            "metadata": catalogue.record_metadata(record),
            "cover": catalogue.record_cover(record),
        },
    )
