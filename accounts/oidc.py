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
import json
from contextvars import ContextVar
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView, UserInfoView

from core.urls_util import domain_url, site_url

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
    """The tenant sites' client secret: OIDC_RP_CLIENT_SECRET, or derived from this installation's
    SECRET_KEY (generated into var/ by core.local_secret, never a value from the source)."""
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


# The person signed in at the authorization endpoint, for the prompt=none checks of the validator.
_authorizing_user: ContextVar = ContextVar("authorizing_user")


def issuer() -> str:
    """The provider's issuer: the platform's configured URL, the one README's discovery URL names.

    Never derived from the request's Host, so `iss` in every ID token is the same whichever
    name or port the request arrived on.
    """
    return provider_url("").rstrip("/")


# Claims released per scope; `sub` always.
CLAIM_SCOPES = {"preferred_username": "profile", "name": "profile", "email": "email", "email_verified": "email"}
SUPPORTED_GRANT_TYPES = ["authorization_code", "refresh_token"]


class CultureOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {"sub": "openid", **CLAIM_SCOPES}

    # Claims about the person, released only for the scopes the client asked for; a claim
    # without a value is left out rather than sent empty (OIDC Core 5.3.2).
    def get_additional_claims(self, request):
        user = request.user
        claims = {
            "preferred_username": user.get_username(),
            "name": user.first_name or user.get_username(),
            # Only an address its owner proved is vouched for.
            "email": user.email if user.email_verified else "",
            "email_verified": bool(user.email and user.email_verified),
        }
        return {name: value for name, value in claims.items() if value}

    def get_discovery_claims(self, request):
        return ["sub", *CLAIM_SCOPES]

    def get_oidc_issuer_endpoint(self, request):
        return issuer()

    # prompt=none (OIDC Core 3.1.2.6): answered with login_required / consent_required, never a 500
    # (django-oauth-toolkit leaves these two to the project). oauthlib's request carries no user at
    # this point, so the authorization view hands over the signed-in person (_authorizing_user).
    def validate_silent_login(self, request) -> bool:
        user = _authorizing_user.get(None)
        return bool(user is not None and user.is_authenticated)

    def validate_silent_authorization(self, request) -> bool:
        # Our own sites skip the consent screen; any other client would need the person's consent.
        client = getattr(request, "client", None)
        if client is None and request.client_id:
            from oauth2_provider.models import get_application_model

            client = get_application_model().objects.filter(client_id=request.client_id).first()
        return bool(client is not None and client.skip_authorization)

    # A code used twice is a stolen code: the tokens issued for its first use are revoked (RFC 6749 4.1.2).
    def _save_bearer_token(self, token, request, *args, **kwargs):
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code" and getattr(request, "code", None):
            _remember_code_tokens(request.code, token.get("access_token", ""))
        return result

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        _mark_code_used(code)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if not valid and _code_was_used(code):
            revoke_tokens_of_replayed_code(code)
        return valid


# Used codes, and the access token each one bought, kept in the shared Redis for as long as
# tokens bought with them can matter.
_USED_CODE_SECONDS = 30 * 24 * 60 * 60


def _code_key(code: str) -> str:
    return "oidc:used-code:" + hashlib.sha256(code.encode()).hexdigest()


def _mark_code_used(code: str) -> None:
    from django.core.cache import caches

    caches["shared"].add(_code_key(code), "", _USED_CODE_SECONDS)


def _code_was_used(code: str) -> bool:
    from django.core.cache import caches

    return caches["shared"].get(_code_key(code)) is not None


def _remember_code_tokens(code: str, access_token: str) -> None:
    from django.core.cache import caches

    caches["shared"].set(_code_key(code), hashlib.sha256(access_token.encode()).hexdigest(), _USED_CODE_SECONDS)


def revoke_tokens_of_replayed_code(code: str) -> None:
    """Revoke the access token (and its refresh-token family) first issued for `code`."""
    from django.core.cache import caches
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    checksum = caches["shared"].get(_code_key(code))
    if not checksum:
        return
    AccessToken = get_access_token_model()
    RefreshToken = get_refresh_token_model()
    for access in AccessToken.objects.filter(token_checksum=checksum):
        refresh = RefreshToken.objects.filter(access_token=access).first()
        if refresh is not None and refresh.token_family:
            RefreshToken.revoke_family(refresh.token_family)
        elif refresh is not None:
            refresh.revoke()
        access.revoke()


def site_callback_urls() -> list[str]:
    """Callback URLs of every tenant domain outside the platform domain."""
    from tenants.models import Domain

    platform = settings.PLATFORM_DOMAIN
    hosts = Domain.objects.exclude(domain=platform).exclude(domain__endswith="." + platform)
    return sorted(domain_url(d, CALLBACK_PATH) for d in hosts.filter(tenant__is_active=True))


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
    changed = []
    if app.redirect_uris != redirect_uris:
        app.redirect_uris = redirect_uris
        changed.append("redirect_uris")
    if not check_password(client_secret(), app.client_secret):
        # A new installation key (or OIDC_RP_CLIENT_SECRET) since the client was registered.
        app.client_secret = client_secret()
        changed.append("client_secret")
    if changed:
        app.save(update_fields=changed)
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
            return self._failure(_("登录请求已失效或被篡改，请重新登录。"))

    def login_failure(self):
        if self.request.GET.get("error"):
            return self._failure(_("统一账号登录未完成，请重新登录。"))
        return self._failure(_("统一账号登录未成功，请重新登录。"))

    def _failure(self, message: str):
        return render(self.request, "accounts/oidc_failed.html", {"message": message}, status=400)


# --- provider views (the account service on the platform host) ----------------------------


class ProviderAuthorizationView(AuthorizationView):
    """Authorization endpoint that honours max_age (OIDC Core 3.1.2.1).

    A sign-in older than max_age seconds is not good enough: the person signs in again (or,
    with prompt=none, the client gets login_required), and the ID token's auth_time is then the
    new sign-in.
    """

    def dispatch(self, request, *args, **kwargs):
        token = _authorizing_user.set(request.user)
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            _authorizing_user.reset(token)

    def get(self, request, *args, **kwargs):
        max_age = request.GET.get("max_age")
        if max_age is not None and request.user.is_authenticated and self._too_old(request.user, max_age):
            if "none" in request.GET.get("prompt", "").split():
                return self.handle_no_permission_as_anonymous()
            return self._sign_in_again(request)
        return super().get(request, *args, **kwargs)

    @staticmethod
    def _too_old(user, max_age: str) -> bool:
        from django.utils import timezone

        try:
            seconds = int(max_age)
        except ValueError:
            return False  # oauthlib refuses a malformed max_age with invalid_request
        if seconds < 0:
            return False
        signed_in = user.last_login
        return signed_in is None or (timezone.now() - signed_in).total_seconds() > seconds

    def handle_no_permission_as_anonymous(self):
        from django.contrib.auth.models import AnonymousUser

        self.request.user = AnonymousUser()
        return self.handle_no_permission()

    def _sign_in_again(self, request):
        from django.contrib.auth import logout
        from django.contrib.auth.views import redirect_to_login

        logout(request)
        return redirect_to_login(request.get_full_path())


class ProviderUserInfoView(UserInfoView):
    """Userinfo accepts the access token in the Authorization header only (RFC 9700 4.3.2)."""

    def dispatch(self, request, *args, **kwargs):
        if "access_token" in request.GET or "access_token" in request.POST:
            response = JsonResponse(
                {"error": "invalid_request", "error_description": "access tokens only in the Authorization header"},
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        return super().dispatch(request, *args, **kwargs)


class ProviderDiscoveryView(ConnectDiscoveryInfoView):
    """The discovery document lists what this provider actually supports, at its configured issuer."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            {
                "issuer": issuer(),
                "authorization_endpoint": provider_url("/o/authorize/"),
                "token_endpoint": provider_url("/o/token/"),
                "userinfo_endpoint": provider_url("/o/userinfo/"),
                "jwks_uri": provider_url("/o/.well-known/jwks.json"),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": SUPPORTED_GRANT_TYPES,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", *CLAIM_SCOPES],
                "scopes_supported": list(settings.OAUTH2_PROVIDER["SCOPES"]),
                "prompt_values_supported": ["none", "login"],
                "claims_parameter_supported": False,
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
            }
        )
        for unsupported in ("client_id_metadata_document_supported",):
            if not data.get(unsupported):
                data.pop(unsupported, None)
        fresh = JsonResponse(data)
        fresh["Access-Control-Allow-Origin"] = "*"
        return fresh
