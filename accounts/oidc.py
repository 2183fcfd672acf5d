"""Unified sign-in for tenants on their own domains: OpenID Connect.

The national account service (the provider) is django-oauth-toolkit on the platform
host, next to the global accounts. A tenant whose host the platform session cookie
cannot reach (e.g. dalian-culture.localhost) signs people in as a standard OIDC
client (mozilla-django-oidc, authorization code + PKCE, RS256 ID tokens checked
against the provider's JWKS). One account, one password, no second login form.

Endpoints are computed from the platform settings at each use, so the provider's
address follows CULTURE_PLATFORM_DOMAIN / CULTURE_SCHEME / CULTURE_PORT.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import render
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView
from oauth2_provider.oauth2_validators import OAuth2Validator

from core.urls_util import site_url

CALLBACK_PATH = "/oidc/callback/"
_ENDPOINT_PATHS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "/o/authorize/",
    "OIDC_OP_TOKEN_ENDPOINT": "/o/token/",
    "OIDC_OP_USER_ENDPOINT": "/o/userinfo/",
    "OIDC_OP_JWKS_ENDPOINT": "/o/.well-known/jwks.json",
}


def provider_url(path: str = "/") -> str:
    return site_url(settings.PLATFORM_DOMAIN, path)


def client_secret() -> str:
    """The tenant sites' client secret: OIDC_RP_CLIENT_SECRET, or derived from SECRET_KEY in development."""
    configured = getattr(settings, "OIDC_RP_CLIENT_SECRET", "")
    if configured:
        return configured
    return hmac.new(settings.SECRET_KEY.encode(), b"culture-cloud/oidc-client", hashlib.sha256).hexdigest()


def _setting(attr: str, *default):
    if attr in _ENDPOINT_PATHS:
        return provider_url(_ENDPOINT_PATHS[attr])
    if attr == "OIDC_RP_CLIENT_SECRET":
        return client_secret()
    return import_from_settings(attr, *default)


# --- provider side -------------------------------------------------------------------------


def rsa_private_key() -> str:
    """The provider's signing key: OIDC_RSA_PRIVATE_KEY, or a key kept in var/ for development."""
    configured = getattr(settings, "OIDC_RSA_PRIVATE_KEY", "")
    if configured:
        return configured
    path = Path(settings.BASE_DIR) / "var" / "oidc-rsa-private.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pem)
        path.chmod(0o600)
    return path.read_text()


class CultureOAuth2Validator(OAuth2Validator):
    # Claims about the person, released only for the scopes the client asked for.
    def get_additional_claims(self, request):
        user = request.user
        return {
            "preferred_username": user.get_username(),
            "name": user.first_name or user.get_username(),
            "email": user.email,
        }


def site_callback_urls() -> list[str]:
    """Callback URLs of every tenant domain outside the platform domain."""
    from tenants.models import Domain

    platform = settings.PLATFORM_DOMAIN
    hosts = Domain.objects.exclude(domain=platform).exclude(domain__endswith="." + platform)
    return sorted(site_url(d.domain, CALLBACK_PATH) for d in hosts.filter(tenant__is_active=True))


def ensure_site_client():
    """Register (or update) the OIDC client that tenant sites use. Idempotent: writes only on change."""
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    redirect_uris = " ".join(site_callback_urls())
    app = Application.objects.filter(client_id=settings.OIDC_RP_CLIENT_ID).first()
    if app is None:
        return Application.objects.create(
            client_id=settings.OIDC_RP_CLIENT_ID,
            client_secret=client_secret(),
            name="文化云站点",
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,  # our own sites: no consent screen
            redirect_uris=redirect_uris,
        )
    if app.redirect_uris != redirect_uris:
        app.redirect_uris = redirect_uris
        app.save(update_fields=["redirect_uris"])
    return app


# --- client side ---------------------------------------------------------------------------


class CultureOIDCBackend(OIDCAuthenticationBackend):
    """Maps the provider's `sub` (the global account id) to that account; never creates accounts."""

    get_settings = staticmethod(_setting)

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        sub = str(claims.get("sub", ""))
        if not sub.isdigit():
            return get_user_model().objects.none()
        return get_user_model().objects.filter(pk=int(sub), is_active=True)

    def create_user(self, claims):
        return None


class AuthenticationRequestView(OIDCAuthenticationRequestView):
    get_settings = staticmethod(_setting)


class AuthenticationCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer. A forged or replayed `state` and a refused sign-in get a Chinese page, never a 500."""

    get_settings = staticmethod(_setting)

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation:
            return self._failure("登录请求已失效或被篡改，请重新登录。")

    def login_failure(self):
        if self.request.GET.get("error"):
            return self._failure("统一账号登录未完成，请重新登录。")
        return self._failure("统一账号登录未成功，请重新登录。")

    def _failure(self, message: str):
        return render(self.request, "accounts/oidc_failed.html", {"message": message}, status=400)
