"""Production: everything from the environment, HTTPS only. `manage.py check --deploy` is clean."""

import os

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import PERSONAL_DATA_INDEX_KEY, PERSONAL_DATA_KEYS, PLATFORM_DOMAIN

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters.")

# Real-name data must never be encrypted with keys derived from SECRET_KEY in production.
if not PERSONAL_DATA_KEYS:
    raise ImproperlyConfigured(
        "PERSONAL_DATA_KEYS must be set: comma-separated Fernet keys, newest first "
        '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
    )
for _position, _key in enumerate(PERSONAL_DATA_KEYS, start=1):
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(f"PERSONAL_DATA_KEYS: key #{_position} is not a valid Fernet key.") from None
# Every web container must sign ID tokens with the same key (a generated one would differ per container).
if "PRIVATE KEY" not in os.environ.get("OIDC_RSA_PRIVATE_KEY", ""):
    raise ImproperlyConfigured("OIDC_RSA_PRIVATE_KEY must be set to a PEM RSA private key (openssl genrsa 2048).")
if len(PERSONAL_DATA_INDEX_KEY) < 32:
    raise ImproperlyConfigured("PERSONAL_DATA_INDEX_KEY must be set to a random string of at least 32 characters.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [f"https://{PLATFORM_DOMAIN}", f"https://*.{PLATFORM_DOMAIN}"]
X_FRAME_OPTIONS = "DENY"
# Absolute links to tenant hosts (core.urls_util.site_url) are HTTPS on the default port
# unless told otherwise; base.py's defaults (http, 8000) are the local `make run` ones.
PLATFORM_SCHEME = os.environ.get("CULTURE_SCHEME", "https")
PLATFORM_PORT = os.environ.get("CULTURE_PORT", "443")

# Callback URLs of the OIDC client must be HTTPS in production (RFC 9700).
OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "ALLOWED_REDIRECT_URI_SCHEMES": ["https"]}  # noqa: F405

# Worker processes of `migrate_schemas --executor=multiprocessing` (docker/entrypoint.sh).
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("MIGRATION_PROCESSES", "2"))
