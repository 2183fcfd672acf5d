"""What arrives from another node is untrusted input (ARCHITECTURE §8): its shape, its numbers, its
URLs and its HTML are checked here before anything is stored or shown.

* `check_shape`: nesting at most MAX_DEPTH levels, integers within PostgreSQL's bigint, finite
  numbers only, no NUL character in any string (PostgreSQL refuses them) — per item, so one bad
  item is refused with a message naming its field and the others still land.
* `check_url`: a URL must be http(s); where the origin's registered base URLs are known, it must
  be on one of their hosts.
* `sanitise_html`: rich text from another node keeps only the tags and attributes Wagtail's editor
  produces, links only http(s)/mailto (nh3, the Rust `ammonia` sanitiser: an allow-list).
* `is_private_address` / `check_public_host`: files are never fetched from loopback, private,
  link-local or reserved addresses unless the operator allows it for a deployment
  (`FEDERATION_ALLOW_PRIVATE_ADDRESSES`, e.g. two deployments on one machine).
"""

from __future__ import annotations

import ipaddress
import math
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import nh3
from django.conf import settings

MAX_DEPTH = 12
MAX_INT = 2**63 - 1
MAX_VERSION = 2**31 - 1  # Record.version is a PostgreSQL integer

# Wagtail's rich-text features of the page bodies (h2–h4, bold, italic, lists, links, …).
ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "h5", "h6", "b", "strong", "i", "em", "u", "s", "sub", "sup", "code",
    "a", "ul", "ol", "li", "blockquote", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}


class UntrustedInputError(ValueError):
    """Input from another node that breaks a rule; the message names the field."""


def check_shape(value, field: str = "envelope", depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise UntrustedInputError(f"{field}: nested more than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            check_shape(key, f"{field} (key)", depth + 1)
            check_shape(item, f"{field}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_shape(item, f"{field}[{index}]", depth + 1)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise UntrustedInputError(f"{field}: number out of range")
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_INT:
            raise UntrustedInputError(f"{field}: number out of range")
    elif isinstance(value, str):
        if "\x00" in value:
            raise UntrustedInputError(f"{field}: contains a NUL character")
    else:
        raise UntrustedInputError(f"{field}: not a JSON value")


def base_of(url: str) -> tuple[str, str]:
    """(scheme, netloc) of a URL, lower-cased, default ports left out."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return scheme, host
    return scheme, f"{host}:{port}"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def check_url(value, field: str, bases: Iterable[str] | None = None, *, required: bool = False) -> None:
    """`value` must be an http(s) URL, and on one of `bases` when they are given."""
    if value in (None, ""):
        if required:
            raise UntrustedInputError(f"{field}: required")
        return
    if not isinstance(value, str) or len(value) > 2000:
        raise UntrustedInputError(f"{field}: not a URL")
    try:
        scheme, netloc = base_of(value.strip())
    except ValueError:
        raise UntrustedInputError(f"{field}: not a URL") from None
    if scheme not in ("http", "https") or not netloc or value != value.strip():
        raise UntrustedInputError(f"{field}: must be an http(s) URL")
    # The host decides (scheme and port may legitimately differ: a site's Wagtail links and its
    # configured public URL do not always spell the port the same way).
    if bases is not None and host_of(value) not in {host_of(base) for base in bases if base}:
        raise UntrustedInputError(f"{field}: not on the origin's registered address")


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def private_addresses_allowed() -> bool:
    return bool(getattr(settings, "FEDERATION_ALLOW_PRIVATE_ADDRESSES", False))


def is_private_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_public_host(url: str, field: str) -> None:
    """Refuse a URL whose host is (or resolves to) a loopback, private, link-local or reserved
    address, unless FEDERATION_ALLOW_PRIVATE_ADDRESSES is on."""
    if private_addresses_allowed():
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UntrustedInputError(f"{field}: the host cannot be resolved") from None
    if not infos or any(is_private_address(info[4][0]) for info in infos):
        raise UntrustedInputError(f"{field}: a private or loopback address (not allowed in this deployment)")
