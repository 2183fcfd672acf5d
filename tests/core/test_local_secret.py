"""`make run` never runs with a secret from the source (issue 9, hardening 1)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SOURCE_DIRS = ["core", "accounts", "tenants", "roles", "themes", "cms_pages", "federation"]


def _settings_secret(env: dict) -> str:
    out = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    return out.stdout.strip()


def test_each_installation_generates_its_own_key_outside_git(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "core.settings.dev"
    env["CULTURE_SECRET_KEY_FILE"] = str(tmp_path / "one" / "secret_key")
    first = _settings_secret(env)
    assert len(first) >= 50
    assert _settings_secret(env) == first  # kept: sessions survive a restart
    key_file = tmp_path / "one" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    env["CULTURE_SECRET_KEY_FILE"] = str(tmp_path / "two" / "secret_key")
    assert _settings_secret(env) != first  # another installation, another key
    # The default file lives in var/, which git ignores.
    ignored = subprocess.run(["git", "check-ignore", "var/secret_key"], cwd=ROOT, capture_output=True)  # noqa: S607
    assert ignored.returncode == 0


def test_no_secret_key_is_written_in_the_source():
    for directory in SOURCE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            text = path.read_text()
            assert "insecure-key" not in text and 'SECRET_KEY = "' not in text, path


def test_the_oidc_client_secret_is_derived_from_the_installation_key(settings):
    from accounts.oidc import client_secret

    settings.OIDC_RP_CLIENT_SECRET = ""
    first = client_secret()
    settings.SECRET_KEY = "another-installation-" + "k" * 50
    assert client_secret() != first
