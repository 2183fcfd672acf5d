"""Resolve every *.localhost name to the loopback address, as RFC 6761 §6.3 asks.

Browsers and curl already do; glibc's resolver does not, so server-to-server
calls between tenants of a local deployment (OIDC token exchange, federation)
could not reach `http://culture.localhost:8000` from Python. Only names under
`.localhost` are affected; every other lookup goes to the system resolver.
"""

from __future__ import annotations

import socket

_original_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        name = host.decode("ascii", "ignore")
    else:
        name = host or ""
    if name.lower().rstrip(".").endswith(".localhost"):
        host = "127.0.0.1"
    return _original_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    if socket.getaddrinfo is not _getaddrinfo:
        socket.getaddrinfo = _getaddrinfo
