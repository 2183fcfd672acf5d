"""The receiving end of federation requests, shared by the HTTP views and the loopback transport.

`dispatch` runs in the receiving site's schema, checks the signature, then answers:
* POST /federation/inbox/  {"envelopes": [...]}  → {"results": [{uid, version, outcome, ...}]}
* GET  /federation/feed/?set=national-resources&after=<seq>&limit=<n>  → {"items", "next", "more"}
* POST /federation/statistics/  {"days": [...]}  → {"accepted": n}  (daily totals, stats.national)
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from . import services, signing
from .models import Subscription

MAX_BATCH = 500
MAX_FEED_PAGE = 500


def _error(status: int, message: str, code: str = "") -> tuple[int, dict]:
    return status, {"error": message, "code": code}


def dispatch(method: str, path: str, headers, body: bytes) -> tuple[int, dict]:
    try:
        key = signing.verify(method, path, body, headers)
    except signing.SignatureError as exc:
        return _error(401, str(exc), exc.code)
    url = urlsplit(path)
    if url.path == "/federation/inbox/" and method == "POST":
        return _inbox(key, body)
    if url.path == "/federation/feed/" and method == "GET":
        return _feed(parse_qs(url.query))
    if url.path == "/federation/statistics/" and method == "POST":
        return _statistics(key, body)
    return _error(404, "no such federation endpoint")


def _inbox(key, body: bytes) -> tuple[int, dict]:
    data = parse_json(body)
    if data is None:
        return _error(400, "body is not JSON (or nested too deeply, or with NaN/Infinity)", "bad_json")
    envelopes = data.get("envelopes") if isinstance(data, dict) else None
    if not isinstance(envelopes, list):
        return _error(400, "envelopes: a list is required", "bad_request")
    if len(envelopes) > MAX_BATCH:
        return _error(413, f"at most {MAX_BATCH} envelopes per request", "too_large")
    bases = services.registered_bases_of_key(key)
    results = [services.receive(envelope, key, bases=bases) for envelope in envelopes]
    if any(result.get("outcome") == "accepted" for result in results):
        services.fetch_covers_later()
    return 200, {"results": results}


def _statistics(key, body: bytes) -> tuple[int, dict]:
    """Daily totals (counts only) a site reports to this national site (stats.national)."""
    from stats.national import receive_report

    data = parse_json(body)
    if data is None:
        return _error(400, "body is not JSON (or nested too deeply, or with NaN/Infinity)", "bad_json")
    return receive_report(key, data)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes):
    """The JSON value of `body`, or None when it is not strict JSON (NaN/Infinity refused) or is
    nested too deeply for the parser."""
    try:
        return json.loads(body or b"null", parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None


def _feed(query: dict) -> tuple[int, dict]:
    set_spec = (query.get("set") or [""])[0]
    if set_spec not in Subscription.SETS:
        return _error(400, f"set: one of {', '.join(Subscription.SETS)}", "bad_set")
    try:
        after = int((query.get("after") or ["0"])[0])
        limit = int((query.get("limit") or ["100"])[0])
    except ValueError:
        return _error(400, "after and limit must be integers", "bad_request")
    if not 0 <= after <= 2**63 - 1 or not 1 <= limit <= MAX_FEED_PAGE:
        return _error(400, f"after ≥ 0 and 1 ≤ limit ≤ {MAX_FEED_PAGE}", "bad_request")
    items, next_cursor, more = services.feed(set_spec, after, limit)
    return 200, {"items": items, "next": next_cursor, "more": more}
