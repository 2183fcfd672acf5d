"""The national account service as an OpenID Connect provider (issue 9, sign-in item 6)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.oidc import client_secret

pytestmark = pytest.mark.django_db

PLATFORM = "culture.localhost"
CALLBACK = "http://dalian-culture.localhost:8000/oidc/callback/"
ISSUER = "http://culture.localhost:8000"
User = get_user_model()


def _claims(jwt_text: str) -> dict:
    payload = jwt_text.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def authorize(client, **extra):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": "culture-sites",
        "redirect_uri": CALLBACK,
        "scope": "openid profile email",
        "state": "st4te",
        "nonce": "n0nce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    response = client.get("/o/authorize/?" + urlencode(params), HTTP_HOST=PLATFORM)
    return response, verifier


def redirect_params(response) -> dict[str, str]:
    assert response.status_code == 302, response.content.decode()[:500]
    location = response["Location"]
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def exchange(client, code: str, verifier: str):
    return client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": "culture-sites",
            "client_secret": client_secret(),
            "code_verifier": verifier,
        },
        HTTP_HOST=PLATFORM,
    )


@pytest.fixture
def person(client):
    user = User.objects.get(username="dalian_editor")
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


def test_prompt_none_without_a_session_answers_login_required(client):
    response, _ = authorize(client, prompt="none")
    params = redirect_params(response)
    assert response["Location"].startswith(CALLBACK)
    assert params["error"] == "login_required" and params["state"] == "st4te"


def test_prompt_none_with_a_session_answers_with_a_code_not_a_500(client, person):
    response, _ = authorize(client, prompt="none")
    assert "code" in redirect_params(response)


def test_prompt_none_for_a_client_that_needs_consent_answers_consent_required(client, person):
    from oauth2_provider.models import Application

    Application.objects.filter(client_id="culture-sites").update(skip_authorization=False)
    response, _ = authorize(client, prompt="none")
    assert redirect_params(response)["error"] == "consent_required"


def test_max_age_forces_a_fresh_sign_in(client, person):
    User.objects.filter(pk=person.pk).update(last_login=timezone.now() - timedelta(hours=2))
    response, _ = authorize(client, max_age="600")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session  # signed out: the password is asked again
    # With prompt=none the client is told instead.
    client.force_login(person)
    User.objects.filter(pk=person.pk).update(last_login=timezone.now() - timedelta(hours=2))
    response, _ = authorize(client, max_age="600", prompt="none")
    assert redirect_params(response)["error"] == "login_required"
    # A recent enough sign-in goes straight through, and auth_time says when it was.
    User.objects.filter(pk=person.pk).update(last_login=timezone.now())
    response, verifier = authorize(client, max_age="600")
    tokens = exchange(client, redirect_params(response)["code"], verifier).json()
    claims = _claims(tokens["id_token"])
    assert abs(claims["auth_time"] - timezone.now().timestamp()) < 60


def test_userinfo_takes_the_access_token_from_the_authorization_header_only(client, person):
    response, verifier = authorize(client)
    access = exchange(client, redirect_params(response)["code"], verifier).json()["access_token"]
    ok = client.get("/o/userinfo/", HTTP_HOST=PLATFORM, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert ok.status_code == 200 and ok.json()["sub"] == str(person.pk)
    assert client.get(f"/o/userinfo/?access_token={access}", HTTP_HOST=PLATFORM).status_code in (400, 401)
    assert client.post("/o/userinfo/", {"access_token": access}, HTTP_HOST=PLATFORM).status_code in (400, 401)


def test_a_replayed_code_revokes_the_tokens_it_bought(client, person):
    response, verifier = authorize(client)
    code = redirect_params(response)["code"]
    access = exchange(client, code, verifier).json()["access_token"]
    assert client.get("/o/userinfo/", HTTP_HOST=PLATFORM, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    replay = exchange(client, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert client.get("/o/userinfo/", HTTP_HOST=PLATFORM, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401


def test_the_password_grant_is_not_offered(client):
    response = client.post(
        "/o/token/",
        {
            "grant_type": "password",
            "username": "dalian_editor",
            "password": "Wenhua-2026",
            "client_id": "culture-sites",
            "client_secret": client_secret(),
        },
        HTTP_HOST=PLATFORM,
    )
    assert response.status_code in (400, 401) and "access_token" not in response.json()


def test_empty_claims_are_left_out(client, person):
    User.objects.filter(pk=person.pk).update(email="", first_name="")
    response, verifier = authorize(client)
    tokens = exchange(client, redirect_params(response)["code"], verifier).json()
    claims = _claims(tokens["id_token"])
    assert "email" not in claims
    info = client.get("/o/userinfo/", HTTP_HOST=PLATFORM, HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
    assert "email" not in info and info["preferred_username"] == "dalian_editor"
    assert claims["iss"] == ISSUER


def test_discovery_lists_what_is_supported_at_the_readme_issuer(client):
    document = client.get("/.well-known/openid-configuration", HTTP_HOST=PLATFORM).json()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/o/authorize/"
    assert document["response_types_supported"] == ["code"]
    assert "password" not in document["grant_types_supported"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    readme = (__import__("pathlib").Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"{ISSUER}/.well-known/openid-configuration" in readme


@pytest.mark.parametrize("path", ["/o/applications/", "/o/applications/register/", "/o/register/", "/o/device/"])
def test_endpoints_the_sites_do_not_use_are_not_served(client, person, path):
    assert client.get(path, HTTP_HOST=PLATFORM).status_code == 404
