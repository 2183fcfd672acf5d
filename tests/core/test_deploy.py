"""The production settings and image, checked the way a deployment uses them (docs/deployment.md).

Each check runs in a subprocess: settings are read once per process, and these need
core.settings.production rather than the test settings this process runs with.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Any value works where settings only parse the URL and never connect (collectstatic, imports).
UNUSED_DATABASE_URL = "postgres://x:x@localhost/x"


def random_secret_key(length: int = 60) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _rsa_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def production_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment (so the same database: DATABASE_URL, or the embedded
    server with CULTURE_DB_NAME), switched to the production settings."""
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings.production",
        "SECRET_KEY": random_secret_key(),
        "PERSONAL_DATA_KEYS": Fernet.generate_key().decode(),
        "PERSONAL_DATA_INDEX_KEY": secrets.token_urlsafe(40),
        "OIDC_RSA_PRIVATE_KEY": _rsa_key(),
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_check_deploy_is_clean():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output, output
    assert not [line for line in output.splitlines() if line.startswith("?: (security")], output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "too-short-0123456789"],
    ids=["unset", "empty", "shorter-than-50"],
)
def test_production_settings_require_a_real_secret_key(secret_key):
    env = production_env(SECRET_KEY=secret_key, DATABASE_URL=UNUSED_DATABASE_URL)
    result = run(["-c", "import core.settings.production"], env)
    assert result.returncode != 0, result.stdout
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr, result.stderr
    assert "SECRET_KEY" in result.stderr, result.stderr


def test_collectstatic_runs_without_a_database(tmp_path):
    """docker/Dockerfile collects static files at build time with throwaway DATABASE_URL and SECRET_KEY."""
    static_root = tmp_path / "static"
    env = production_env(DATABASE_URL=UNUSED_DATABASE_URL, STATIC_ROOT=str(static_root), SENTRY_DSN=None)
    result = run(["manage.py", "collectstatic", "--noinput", "--verbosity", "0"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (static_root / "staticfiles.json").is_file()
    assert (static_root / "wagtailadmin").is_dir()


def test_entrypoint_is_valid_posix_shell():
    result = subprocess.run(["sh", "-n", str(REPO_ROOT / "docker" / "entrypoint.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"PERSONAL_DATA_KEYS": None}, "PERSONAL_DATA_KEYS must be set"),
        ({"PERSONAL_DATA_KEYS": "not-a-fernet-key"}, "key #1 is not a valid Fernet key"),
        ({"PERSONAL_DATA_INDEX_KEY": "short"}, "PERSONAL_DATA_INDEX_KEY must be set"),
        ({"OIDC_RSA_PRIVATE_KEY": None}, "OIDC_RSA_PRIVATE_KEY must be set"),
    ],
)
def test_production_refuses_to_start_without_personal_data_keys(overrides, message):
    env = production_env(DATABASE_URL=UNUSED_DATABASE_URL, **overrides)
    result = run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
