"""Request-rate limits on the paths people (and scripts) can hammer, shared by every process.

One table of limits, checked by one middleware before the view runs, counted with
django-ratelimit's counter (`django_ratelimit.core.get_usage`) in the "shared" cache — Redis,
or the embedded redis-server (core.embedded_redis) — so every web process and every restart of
one sees the same counts. A middleware rather than decorators because the limited views belong
to several apps (accounts, cms_pages, federation) and Wagtail (page passwords): the table here
is the one place to read what is limited and how much.

Over the limit: HTTP 429 (OAI-PMH: 503, which harvesters understand as "come back later") with
Retry-After and a Chinese page saying what was limited and when to try again. Nothing is done.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.shortcuts import render
from django_ratelimit.core import get_usage

from core.client_address import client_address


@dataclass(frozen=True)
class Limit:
    name: str  # key of settings.RATE_LIMITS
    path: re.Pattern
    methods: tuple[str, ...]
    action: str  # what was limited, in the Chinese message: "登录尝试过于频繁"
    per_tenant: bool  # counted per site (search) or platform-wide (accounts are global)
    status: int = 429


_LANG = r"(?:[a-z]{2,3}(?:-[a-z]{2,4})?/)?"
LIMITS = (
    # Our sign-in (under any language prefix) and Wagtail's admin sign-in: the same accounts, one counter.
    Limit(
        "login", re.compile(rf"^/(?:{_LANG}accounts|admin)/login/$"), ("POST",), "登录尝试过于频繁", per_tenant=False
    ),
    Limit("register", re.compile(rf"^/{_LANG}accounts/register/$"), ("POST",), "注册请求过于频繁", per_tenant=False),
    Limit(
        "verification",
        re.compile(rf"^/{_LANG}me/(?:email|mobile)/$"),
        ("POST",),
        "验证邮件或短信发送过于频繁",
        per_tenant=False,
    ),
    Limit(
        "password_reset",
        re.compile(rf"^/{_LANG}accounts/password/reset/$"),
        ("POST",),
        "找回密码邮件发送过于频繁",
        per_tenant=False,
    ),
    Limit(
        "page_password",
        re.compile(rf"^/{_LANG}_util/authenticate_with_password/"),
        ("POST",),
        "页面密码尝试过于频繁",
        per_tenant=True,
    ),
    Limit("search", re.compile(rf"^/{_LANG}search/$"), ("GET", "HEAD"), "搜索过于频繁", per_tenant=True),
    # The catalogue and OAI-PMH answer under every language prefix too (core/urls.py i18n_patterns):
    # /en/catalogue/ is the same catalogue and counts against the same limit.
    Limit("catalogue", re.compile(rf"^/{_LANG}catalogue/"), ("GET", "HEAD"), "目录查询过于频繁", per_tenant=True),
    Limit(
        "oai",
        re.compile(rf"^/{_LANG}oai/$"),
        ("GET", "HEAD", "POST"),
        "OAI-PMH 请求过于频繁",
        per_tenant=True,
        status=503,
    ),
)
# A second counter per target account: mails to one address cannot be repeated from many addresses.
PASSWORD_RESET_ACCOUNT = "password_reset_account"  # noqa: S105 - a counter name, not a password


def _usage(request, group: str, value: str, rate: str) -> dict | None:
    return get_usage(request, group=group, key=lambda _group, _request: value, rate=rate, increment=True)


def _account_value(request) -> str | None:
    email = (request.POST.get("email") or "").strip().lower()
    if not email:
        return None
    return hashlib.sha256(email.encode()).hexdigest()


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{max(seconds, 1)} 秒"
    return f"{math.ceil(seconds / 60)} 分钟"


def rate_limited(request, exception=None, *, limit: Limit | None = None, retry_after: int = 60):
    """The Chinese "too many requests" page (also RATELIMIT_VIEW for any @ratelimit(block=True))."""
    action = limit.action if limit else "请求过于频繁"
    status = limit.status if limit else 429
    response = render(
        request,
        "core/rate_limited.html",
        {"action": action, "wait": _wait_text(retry_after)},
        status=status,
    )
    response["Retry-After"] = str(max(retry_after, 1))
    return response


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = self._limit_for(request)
        if limit is not None:
            refused = self._check(request, limit)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def _limit_for(request) -> Limit | None:
        for limit in LIMITS:
            if request.method in limit.methods and limit.path.match(request.path_info):
                return limit
        return None

    def _check(self, request, limit: Limit):
        rates = settings.RATE_LIMITS
        address = client_address(request)
        scope = connection.schema_name if limit.per_tenant else "platform"
        counters = [(f"{limit.name}:{scope}", address, rates[limit.name])]
        if limit.name == "password_reset":
            account = _account_value(request)
            if account:
                counters.append((f"{PASSWORD_RESET_ACCOUNT}:{scope}", account, rates[PASSWORD_RESET_ACCOUNT]))
        for group, value, rate in counters:
            if not rate:
                continue
            usage = _usage(request, group, value, rate)
            if usage is not None and usage["should_limit"]:
                return rate_limited(request, limit=limit, retry_after=max(usage["time_left"], 1))
        return None
