from django.shortcuts import render

from .search import CATEGORY_LABELS, TYPE_LABELS, search_site

CATALOGUE_HITS = 5


def search(request):
    outcome = search_site(request.GET, request.GET.get("page", 1))
    status = 400 if outcome.errors else 200
    if outcome.words and not outcome.errors and str(request.GET.get("page", "1")) in ("", "1"):
        from stats.services import record_search  # one event per search (its first page), no person

        record_search(outcome.query, outcome.total)
    return render(
        request,
        "cms_pages/search.html",
        {
            "outcome": outcome,
            "types": TYPE_LABELS,
            "categories": CATEGORY_LABELS,
            "params": request.GET,
            "catalogue": _catalogue_hits(outcome),
        },
        status=status,
    )


def _catalogue_hits(outcome):
    """On the national site, a query also searches the national catalogue (what the provinces and
    cities pushed; the national site's own items are already among the page results)."""
    from federation import catalogue

    if not outcome.words or outcome.errors or not catalogue.is_catalogue_site():
        return None
    return catalogue.search_for_site_search(outcome.query, limit=CATALOGUE_HITS)
