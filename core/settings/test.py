import os
from pathlib import Path

# The tests' own embedded Redis (core.embedded_redis), apart from a `make run` of the same checkout.
os.environ.setdefault("CULTURE_REDIS_DIR", str(Path(__file__).resolve().parent.parent.parent / "var" / "redis-test"))

from .base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
# Test runs side by side (CI, several databases) must not share cached pages through var/cache.
if "REDIS_URL" not in os.environ:
    CACHES = {
        **CACHES,  # noqa: F405
        "pages": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "culture-pages",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        },
    }
# A queue of the tests' own: a worker started by a test takes only its tasks, never what
# provisioning the demo world left in the shared queue (tests/core/test_worker_recovery.py).
TASKS = {"default": {**TASKS["default"], "QUEUES": ["default", "tests"]}}  # noqa: F405
