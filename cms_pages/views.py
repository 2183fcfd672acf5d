from django.shortcuts import render

from .search import CATEGORY_LABELS, TYPE_LABELS, search_site


def search(request):
    outcome = search_site(request.GET, request.GET.get("page", 1))
    status = 400 if outcome.errors else 200
    return render(
        request,
        "cms_pages/search.html",
        {"outcome": outcome, "types": TYPE_LABELS, "categories": CATEGORY_LABELS, "params": request.GET},
        status=status,
    )
