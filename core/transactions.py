"""One transaction per write request.

Every POST/PUT/PATCH/DELETE view runs inside `transaction.atomic()`: a publish in the Wagtail
admin and the federation outbox row its signal writes commit together or not at all
(ARCHITECTURE §5), and a view that fails half-way leaves no trace. Reads (GET/HEAD/OPTIONS) stay
outside a transaction, so the pages the public reads cost no BEGIN/COMMIT round trips — the
difference from Django's ATOMIC_REQUESTS, which wraps every request.

Like ATOMIC_REQUESTS it wraps the view only (an exception rolls back before Django turns it into
an error page) and honours `@transaction.non_atomic_requests` (tenant creation clones a schema
outside any transaction). It must be the last middleware: it calls the view itself.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AtomicWritesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in SAFE_METHODS:
            return None
        if DEFAULT_DB_ALIAS in getattr(view_func, "_non_atomic_requests", set()):
            return None
        with transaction.atomic():
            return view_func(request, *view_args, **view_kwargs)
