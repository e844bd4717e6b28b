"""Settings for the voice assistant, driven by environment variables.

One module for every environment. With no variables at all it boots for local work:
DEBUG on, a SQLite file database and the in-memory channel layer. Production sets
``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (shared channel layer for several
processes), ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``PUBLIC_BASE_URL`` and the engine
keys. Every variable is listed in ``.env.example``.

Sections: environment, Django core, database, channel layer, security, static files
and storage, logging, then the product's own knobs (read by the code through the
typed ``calls.conf.app_settings()``). A value that cannot be used is not raised here:
``voiceassistant.environment`` records it and ``voiceassistant.checks`` reports it,
one line per variable, when ``check``, ``migrate``, ``runserver`` or ``serve`` start.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import environ

from calls.egress.addresses import Destinations
from voiceassistant.channel_layers import in_memory_channel_layer, redis_channel_layer
from voiceassistant.environment import Environment

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Environment -------------------------------------------------------------------

env = Environment()
# An optional file of variables beside manage.py; real environment variables win.
# ENV_FILE names another one, relative to manage.py's folder (/dev/null: none, as
# the tests that start a process with an environment of their own use).
ENV_FILE = env.text("ENV_FILE", default=".env")
if (BASE_DIR / ENV_FILE).is_file():
    environ.Env.read_env(BASE_DIR / ENV_FILE, overwrite=False)
elif ENV_FILE not in (".env", os.devnull):
    env.problem("ENV_FILE", f"is {ENV_FILE!r}, which is not a file", ".env")

# --- Django core -------------------------------------------------------------------

# An unreadable DEBUG counts as off: the checks then stop a server that was meant
# to be a development one, rather than start a production one with DEBUG on.
DEBUG = env.flag("DEBUG", default=True, invalid=False)

# Django's own deploy check wants 50+ characters; a short key signs sessions and
# stream tokens that can be guessed, so production refuses it. A missing or short
# key is reported by the checks and left empty, which Django refuses to use, so no
# server can sign anything with it even when started without its checks.
MIN_SECRET_KEY_LENGTH = 50
_KEY_EXAMPLE = '"$(python -c "import secrets; print(secrets.token_urlsafe(50))")"'
SECRET_KEY = env.text("SECRET_KEY")
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
elif not SECRET_KEY:
    env.problem(
        "SECRET_KEY",
        "is not set; with DEBUG off it must be, to sign sessions and stream tokens",
        _KEY_EXAMPLE,
    )
elif not DEBUG and len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
    env.problem(
        "SECRET_KEY",
        f"is {len(SECRET_KEY)} characters long; with DEBUG off it must be at least "
        f"{MIN_SECRET_KEY_LENGTH}",
        _KEY_EXAMPLE,
    )
    SECRET_KEY = ""

# With DEBUG off and no hosts every request is refused (400): voiceassistant.checks
# stops the server with the variable to set.
ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", default=["*"] if DEBUG else [])

# The https origin Twilio uses to reach this server, e.g. https://voice.example.com.
# Signatures are computed over it, and stream URLs are built from it, so it must be
# the public address when the server sits behind a TLS-terminating proxy.
PUBLIC_BASE_URL = env.url(
    "PUBLIC_BASE_URL",
    default="",
    schemes=("https", "http"),
    example="https://voice.example.com",
).rstrip("/")
if PUBLIC_BASE_URL:
    CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "voiceassistant.apps.VoiceAssistantConfig",
    "assistants",
    "calls",
]
# daphne's app makes `manage.py runserver` serve ASGI (WebSockets included); it
# must precede staticfiles. Only development runs runserver: `make run` starts the
# daphne command and production `serve` runs uvicorn, neither needs the app.
if DEBUG:
    INSTALLED_APPS.insert(0, "daphne")
# The dev-tools app (simulators, benchmark, demo commands): with DEBUG on unless
# DEVTOOLS=false, or when DEVTOOLS=true; the production image has no copy of it.
DEVTOOLS = env.flag("DEVTOOLS", default=DEBUG)
if DEVTOOLS:
    INSTALLED_APPS.append("calls.tooling.apps.DevToolsConfig")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # No server here serves static files: WhiteNoise serves the admin's and ours,
    # from the apps directly (no collectstatic needed for `make run`) or STATIC_ROOT.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store on call pages and downloads.
    "voiceassistant.middleware.PrivatePagesMiddleware",
    # The viewer's time zone from the session (header "Time zone" form).
    "calls.review.timezones.TimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "voiceassistant.urls"
ASGI_APPLICATION = "voiceassistant.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# The product's own sign-in page (voiceassistant/urls.py); after it, the call log.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.text("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The port `make run`, serve and serve_info listen on.
PORT = env.integer("PORT", default=8000, minimum=1, example=8000)

# --- Database ----------------------------------------------------------------------

# An empty DATABASE_URL counts as unset (the Makefile's SQLite pass clears it).
DATABASES = {
    "default": env.database(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        example="postgres://voice:password@db.example.com:5432/voice",
    )
}
TEST_DATABASE_NAME = env.text("TEST_DATABASE_NAME")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # Tests use a file too: database_sync_to_async runs on other threads, which an
    # in-memory SQLite database would not share.
    DATABASES["default"]["TEST"] = {
        "NAME": TEST_DATABASE_NAME or str(BASE_DIR / "var" / "test.sqlite3")
    }
    # IMMEDIATE: every transaction takes the write lock when it begins, so a
    # read-then-write (call_finish) waits for the busy timeout instead of failing
    # at once with "database is locked" when its lock upgrade collides.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
elif DATABASES["default"]["ENGINE"] != "django.db.backends.dummy":
    DATABASES["default"]["CONN_MAX_AGE"] = env.integer(
        "CONN_MAX_AGE", default=60, example=60
    )
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if TEST_DATABASE_NAME:
        DATABASES["default"]["TEST"] = {"NAME": TEST_DATABASE_NAME}

# --- Channel layer -----------------------------------------------------------------

# Redis, shared by every process (several processes need it); unset, each process
# has its own in-memory layer.
REDIS_URL = env.url(
    "REDIS_URL",
    default="",
    schemes=("redis", "rediss", "unix"),
    example="redis://127.0.0.1:6379/0",
)
CHANNEL_LAYERS = {
    "default": redis_channel_layer(REDIS_URL)
    if REDIS_URL
    else in_memory_channel_layer()
}

# --- Security ----------------------------------------------------------------------

if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.flag("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.flag("CSRF_COOKIE_SECURE", default=True)
    # Plain-http requests the proxy forwards are redirected to https (Twilio and
    # browsers only ever use https; /healthz probes from the proxy are exempt).
    SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # Browsers remember to use https only; a year, as Django's deploy check asks.
    SECURE_HSTS_SECONDS = env.integer(
        "SECURE_HSTS_SECONDS", default=31_536_000, example=31_536_000
    )
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.flag(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
    )
    SECURE_HSTS_PRELOAD = env.flag("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a deliberate, hard-to-undo opt-in, not a default: the
        # deploy check's reminder about it (W021) is silenced until it is chosen.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp): the pages load scripts, styles, images and
# the live view's WebSocket from this origin only; nothing may frame them.
CSP_ENABLED = env.flag("CSP_ENABLED", default=True)
if CSP_ENABLED:
    INSTALLED_APPS.append("csp")
    MIDDLEWARE.insert(1, "csp.middleware.CSPMiddleware")
    CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "media-src": ["'self'"],
            "connect-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }
    }

# --- Static files, media and storage -----------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
# Call recordings are served only through an authenticated view, never a
# public media URL (calls.review); MEDIA_URL is left unset for that reason.
MEDIA_ROOT = env.text("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
}
# S3-compatible storage for recordings instead of MEDIA_ROOT: set the bucket
# (needs django-storages, pinned, and boto3, an optional install: pip install boto3).
RECORDINGS_S3_BUCKET = env.text("RECORDINGS_S3_BUCKET")
if RECORDINGS_S3_BUCKET:
    if importlib.util.find_spec("storages") is None or (
        importlib.util.find_spec("boto3") is None
    ):
        env.problem(
            "RECORDINGS_S3_BUCKET",
            f"is {RECORDINGS_S3_BUCKET!r} but django-storages or boto3 is not "
            "installed (pip install django-storages==1.14.6 boto3), or unset it",
            "my-recordings",
        )
    else:
        STORAGES["recordings"] = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": RECORDINGS_S3_BUCKET,
                "endpoint_url": env.text("RECORDINGS_S3_ENDPOINT_URL") or None,
                "region_name": env.text("RECORDINGS_S3_REGION") or None,
                "location": env.text("RECORDINGS_S3_PREFIX"),
                # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (boto3's own).
                "default_acl": "private",
                "file_overwrite": False,
            },
        }

# --- Logging -----------------------------------------------------------------------

LOG_LEVEL = env.choice(
    "LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), default="INFO"
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "redact_tokens": {"()": "calls.telephony.log_redaction.RedactTokensFilter"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
        "twisted": {"level": "WARNING"},
        # uvicorn writes a refused WebSocket's path (its token) through its own
        # loggers, whose handlers are its own: the filter goes on the loggers.
        # Its access log, when on, is written by our handler (this configuration
        # replaces the handlers of a logger it names).
        "uvicorn.error": {"filters": ["redact_tokens"]},
        "uvicorn.access": {
            "handlers": ["console"],
            "filters": ["redact_tokens"],
            "propagate": False,
        },
    },
}

# --- Twilio ------------------------------------------------------------------------

TWILIO_ACCOUNT_SID = env.text("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env.text("TWILIO_AUTH_TOKEN")
# Twilio's REST API (calls.telephony.account.rest): an API key pair, when set, is
# used instead of the Auth Token (it can be revoked alone); the base URL lets a
# local stand-in such as the call simulator's play api.twilio.com.
TWILIO_API_KEY_SID = env.text("TWILIO_API_KEY_SID")
TWILIO_API_KEY_SECRET = env.text("TWILIO_API_KEY_SECRET")
TWILIO_API_BASE_URL = env.url(
    "TWILIO_API_BASE_URL",
    default="https://api.twilio.com",
    schemes=("https", "http"),
    example="https://api.twilio.com",
).rstrip("/")

# --- Speech engines ----------------------------------------------------------------

# Deprecated: the engine of assistants that choose none ("azure": Azure OpenAI
# Realtime with OPENAI_API_KEY and OPENAI_REALTIME_URL). Empty: OpenAI Realtime.
# voiceassistant.checks warns while it is set; choose the engine on each assistant.
REALTIME_PROVIDER = env.choice("REALTIME_PROVIDER", ("openai", "azure"), default="")
OPENAI_API_KEY = env.text("OPENAI_API_KEY")
_WS = ("wss", "ws")
OPENAI_REALTIME_URL = env.url(
    "OPENAI_REALTIME_URL",
    default="wss://api.openai.com/v1/realtime",
    schemes=_WS,
    example="wss://api.openai.com/v1/realtime",
)
# GPT-Live (assistants with engine "openai-live"): OPENAI_API_KEY, its own URL.
OPENAI_LIVE_URL = env.url(
    "OPENAI_LIVE_URL",
    default="wss://api.openai.com/v1/live/sessions",
    schemes=_WS,
    example="wss://api.openai.com/v1/live/sessions",
)
# Azure OpenAI Realtime (engine "azure-realtime"): its own key and URL, so that
# OpenAI and Azure assistants run in one deployment. When unset, a deployment
# configured the old way (REALTIME_PROVIDER=azure) uses OPENAI_API_KEY and
# OPENAI_REALTIME_URL for Azure, as before.
AZURE_OPENAI_API_KEY = env.text("AZURE_OPENAI_API_KEY")
AZURE_OPENAI_REALTIME_URL = env.url(
    "AZURE_OPENAI_REALTIME_URL",
    default="",
    schemes=_WS,
    example="wss://my-resource.openai.azure.com/openai/v1/realtime",
)

# The settings below apply to every engine; before they did, they were named
# REALTIME_*: the old names are read for one release (voiceassistant.checks warns).
ENGINE_CONNECT_TIMEOUT = env.number(
    "ENGINE_CONNECT_TIMEOUT", default=10.0, old="REALTIME_CONNECT_TIMEOUT"
)
# Open the engine's connection as soon as Twilio's upgrade is authorised, before
# its ``start`` frame, to cut the first turn's delay. Off: open it at ``start``
# (for benchmarks comparing the two).
ENGINE_CONNECT_ON_UPGRADE = env.flag(
    "ENGINE_CONNECT_ON_UPGRADE", default=True, old="REALTIME_CONNECT_ON_UPGRADE"
)
# The engine connection's WebSocket client: "websockets", "picows" (a faster
# optional package) or "auto" (picows when installed).
ENGINE_WS_CLIENT = env.choice(
    "ENGINE_WS_CLIENT",
    ("auto", "websockets", "picows"),
    default="auto",
    old="REALTIME_WS_CLIENT",
)

# --- Calls -------------------------------------------------------------------------

# Play an assistant's greeting from a per-process cache of its audio at Twilio's
# ``start`` (captured from its first call) instead of waiting for the engine.
GREETING_CACHE = env.flag("GREETING_CACHE", default=True)
# Webhook tools may not reach internal addresses (loopback, private, link-local,
# metadata services) unless listed here: host names or CIDR networks, comma-
# separated, e.g. "erp.internal,10.20.0.0/16" for a deployment's own services.
WEBHOOK_ALLOW_INTERNAL = env.items("WEBHOOK_ALLOW_INTERNAL", default=())
try:
    Destinations.from_entries(WEBHOOK_ALLOW_INTERNAL)
except ValueError as _exc:
    env.problem("WEBHOOK_ALLOW_INTERNAL", str(_exc), '"erp.internal,10.20.0.0/16"')
    WEBHOOK_ALLOW_INTERNAL = []
# Numbers staff with calls.control_call may transfer any call to, as E.164
# prefixes, comma-separated (e.g. "+1555,+44"); empty: only the call's assistant's
# configured transfer destinations. Checked at start (voiceassistant.E003).
TRANSFER_ALLOWED_PREFIXES = env.items("TRANSFER_ALLOWED_PREFIXES", default=())
# Twilio marks at most every this many ms of assistant audio (plus the first and
# last of each answer). Each mark is one more frame each way; 0 marks every delta.
MEDIA_MARK_INTERVAL_MS = env.integer("MEDIA_MARK_INTERVAL_MS", default=100, example=100)
# A webhook tool's filler is said once its call has run this long without a
# result (nobody talked over: it waits for the caller and the assistant).
TOOL_FILLER_AFTER_MS = env.integer(
    "TOOL_FILLER_AFTER_MS", default=1500, minimum=0, example=1500
)
# On SIGTERM, end this process's calls cleanly (recorded as server_shutdown, the
# caller hears the unavailable message) before the server stops.
CALLS_END_ON_SIGTERM = env.flag("CALLS_END_ON_SIGTERM", default=True)
# Every serving process ends calls left open by a dead process (no heartbeat for
# 30 s) and calls whose stream never opened, this often; 0 turns the sweep off.
CALLS_SWEEP_SECONDS = env.number("CALLS_SWEEP_SECONDS", default=15.0)
# How long the stream token in a TwiML answer stays valid. Twilio opens the stream
# within a second or two of fetching TwiML; the margin covers a pre-connect <Say>.
STREAM_TOKEN_TTL_SECONDS = env.integer(
    "STREAM_TOKEN_TTL_SECONDS", default=120, minimum=1, example=120
)

# Prices in USD per million tokens, used for the cost estimate shown with each call.
# Defaults are OpenAI's published gpt-realtime prices; set your contract's figures.
PRICE_INPUT_TEXT_PER_M = env.number("PRICE_INPUT_TEXT_PER_M", default=4.0)
PRICE_INPUT_AUDIO_PER_M = env.number("PRICE_INPUT_AUDIO_PER_M", default=32.0)
PRICE_CACHED_TEXT_PER_M = env.number("PRICE_CACHED_TEXT_PER_M", default=0.4)
PRICE_CACHED_AUDIO_PER_M = env.number("PRICE_CACHED_AUDIO_PER_M", default=0.4)
PRICE_OUTPUT_TEXT_PER_M = env.number("PRICE_OUTPUT_TEXT_PER_M", default=16.0)
PRICE_OUTPUT_AUDIO_PER_M = env.number("PRICE_OUTPUT_AUDIO_PER_M", default=64.0)
# GPT-Live bills seconds of session: USD per minute (the guide's illustrative rate;
# set the current one from the model page). Its backend tokens use the text prices.
PRICE_LIVE_PER_MINUTE = env.number("PRICE_LIVE_PER_MINUTE", default=0.05)

# --- Call log, recordings and retention ---------------------------------------------

# Staff without this permission see caller numbers masked in the call log.
CALLS_MASK_NUMBERS = env.flag("CALLS_MASK_NUMBERS", default=True)
# Days to keep call recordings and transcripts (manage.py purge_calls, run daily),
# unless the assistant sets its own; empty (or 0) keeps them.
RECORDING_RETENTION_DAYS = env.optional_integer("RECORDING_RETENTION_DAYS") or None
TRANSCRIPT_RETENTION_DAYS = env.optional_integer("TRANSCRIPT_RETENTION_DAYS") or None
# Recordings (assistants with recording_enabled): spooled here while the call
# runs (a crash loses at most RECORDING_FLUSH_SECONDS), then saved to
# STORAGES["recordings"]. RECORDING_CODEC: mulaw (0.96 MB a minute; Chromium and
# Safari play it) or pcm16 (1.92 MB a minute; every browser).
# Inside MEDIA_ROOT by default so the spool lives on the same (Docker) volume;
# it is never served: recordings go out through the authenticated view only.
RECORDING_SPOOL_DIR = env.text("RECORDING_SPOOL_DIR", default=MEDIA_ROOT + "/spool")
RECORDING_CODEC = env.choice("RECORDING_CODEC", ("mulaw", "pcm16"), default="mulaw")
RECORDING_FLUSH_SECONDS = env.number("RECORDING_FLUSH_SECONDS", default=5.0)

# --- What the checks report ----------------------------------------------------------

# Read by voiceassistant.checks: values that could not be used, and variables set
# under their old names.
ENVIRONMENT_PROBLEMS = tuple(env.problems)
ENVIRONMENT_RENAMED = tuple(env.renamed)
