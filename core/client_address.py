"""The client's address, as far as our own reverse proxies vouch for it.

X-Forwarded-For is a list a client can start with anything it likes; each proxy appends the
address it received the request from. Only the entries our proxies appended are true, so with
TRUSTED_PROXY_COUNT proxies in front of the web server the client is the TRUSTED_PROXY_COUNT-th
entry from the right — never the leftmost, which the client chose. With no trusted proxy (the
default) the header is ignored and REMOTE_ADDR is the client. Lock-out and rate limits count per
this address; docs/deployment.md shows the proxy configuration that matches it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

UNKNOWN = "unknown"


def _valid(address: str) -> str | None:
    address = address.strip()
    # "[2001:db8::1]:443" / "203.0.113.7:51234" from some proxies: the port is not part of the client.
    if address.startswith("[") and "]" in address:
        address = address[1 : address.index("]")]
    elif address.count(":") == 1:
        address = address.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def client_address(request) -> str:
    if request is None:
        return UNKNOWN
    remote = _valid(request.META.get("REMOTE_ADDR") or "") or UNKNOWN
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    # Several X-Forwarded-For headers arrive joined with commas, in order: one list.
    entries = [entry for entry in header.split(",") if entry.strip()]
    if len(entries) < proxies:
        # Fewer entries than proxies: the request did not come through all of them (or the
        # header was stripped); the nearest address we know is the best we can vouch for.
        return remote if not entries else (_valid(entries[0]) or remote)
    return _valid(entries[-proxies]) or remote
