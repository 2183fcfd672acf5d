from .base import *  # noqa: F403

# Off unless a developer asks (DEBUG=1 make run): errors show the Chinese 404/500 pages, as in production.
DEBUG = env_bool("DEBUG", False)  # noqa: F405
# Serve static files straight from the apps while developing (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
