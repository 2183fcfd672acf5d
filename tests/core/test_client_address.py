"""The client address trusts X-Forwarded-For only through our own proxies (issue 9, sign-in item 3)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory

from core.client_address import client_address


def request_with(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_with("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # One proxy (nginx $proxy_add_x_forwarded_for): it appended the real client last.
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client forged the first entry
        # Two proxies (CDN, then nginx): the CDN appended the client, nginx appended the CDN.
        (2, "6.6.6.6, 203.0.113.9, 192.0.2.50", "203.0.113.9"),
        (1, "not-an-address", "10.0.0.1"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
    ],
)
def test_the_rightmost_untrusted_entry_is_the_client(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request_with("10.0.0.1", forwarded)) == expected


@pytest.mark.django_db
def test_a_client_cannot_dodge_the_lock_out_by_forging_the_header(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _once in [1]:
        for n in range(settings.LOGIN_MAX_FAILURES):
            client.post(
                "/accounts/login/",
                {"username": "zhejiang_moderator", "password": "wrong"},
                HTTP_HOST="zhejiang.culture.localhost",
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.20",
            )
        response = client.post(
            "/accounts/login/",
            {"username": "zhejiang_moderator", "password": "Wenhua-2026"},
            HTTP_HOST="zhejiang.culture.localhost",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.20",
        )
    assert response.status_code == 429


def test_the_deployment_guide_configures_what_the_code_trusts():
    guide = (Path(settings.BASE_DIR) / "docs" / "deployment.md").read_text()
    assert "TRUST_X_FORWARDED_FOR" not in guide
    assert "TRUSTED_PROXY_COUNT" in guide
    nginx = re.search(r"```nginx(.*?)```", guide, re.S).group(1)
    # The proxy appends the address it received the request from; with one proxy that is the client.
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in nginx
    compose = (Path(settings.BASE_DIR) / "docker" / "compose.yaml").read_text()
    assert "TRUSTED_PROXY_COUNT" in compose
