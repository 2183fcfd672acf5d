"""Write requests run in one transaction; reads run without one."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django_tenants.utils import schema_context

from core.transactions import AtomicWritesMiddleware
from federation.models import SeenNonce

pytestmark = pytest.mark.django_db


def _middleware():
    return AtomicWritesMiddleware(lambda request: HttpResponse("ok"))


def _failing_write(request):
    SeenNonce.objects.create(key_id="k", nonce="written-then-failed")
    raise RuntimeError("the view failed half-way")


def test_a_failing_write_view_leaves_no_trace():
    with schema_context("zhejiang"):
        with pytest.raises(RuntimeError):
            _middleware().process_view(RequestFactory().post("/x/"), _failing_write, (), {})
        assert not SeenNonce.objects.filter(nonce="written-then-failed").exists()


def test_write_views_run_in_a_transaction_and_reads_do_not():
    seen = {}

    def view(request):
        seen[request.method] = connection.in_atomic_block
        return HttpResponse("ok")

    depth_outside = len(connection.savepoint_ids)
    middleware = _middleware()
    assert middleware.process_view(RequestFactory().get("/x/"), view, (), {}) is None  # Django calls it
    middleware.process_view(RequestFactory().post("/x/"), view, (), {})
    assert seen == {"POST": True}
    assert len(connection.savepoint_ids) == depth_outside


def test_views_marked_non_atomic_are_left_alone():
    view = transaction.non_atomic_requests(lambda request: HttpResponse("ok"))
    assert _middleware().process_view(RequestFactory().post("/x/"), view, (), {}) is None
