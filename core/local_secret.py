"""A secret key per installation, for `make run`, `manage.py` and the tests when SECRET_KEY is not set.

No secret lives in the source: the first process of a checkout generates a random key into
var/secret_key (mode 0600, ignored by git) and every later process of that checkout reads it.
Everything derived from the key — Django's signed cookies and password-reset tokens, the OIDC
client secret of the tenant sites (accounts.oidc.client_secret), the development keys for
real-name data (accounts.crypto) — is therefore different on every installation. Production
settings refuse to start without SECRET_KEY in the environment.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
KEY_LENGTH = 64


def secret_key_path() -> Path:
    return Path(os.environ.get("CULTURE_SECRET_KEY_FILE", BASE_DIR / "var" / "secret_key"))


def installation_secret_key() -> str:
    """SECRET_KEY from the environment, or this installation's generated key (created on first use)."""
    configured = os.environ.get("SECRET_KEY", "")
    if configured:
        return configured
    path = secret_key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting together (web server and worker) must end up with one key.
    with open(path.parent / ".secret_key.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.exists() or len(path.read_text().strip()) < 50:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(secrets.token_urlsafe(KEY_LENGTH) + "\n")
            return path.read_text().strip()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
