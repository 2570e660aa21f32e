"""One settings module, driven by environment variables.

DATABASE_URL   sqlite:///arrears.sqlite3 (default, in the working directory) or postgres://…
SECRET_KEY     required when DEBUG is off
DEBUG          "1" to turn on Django's debug pages
ARREARS_TIME_ZONE  the book's time zone, which decides "today" (default America/New_York)
ALLOWED_HOSTS  comma-separated (default localhost,127.0.0.1)
CSRF_TRUSTED_ORIGINS  comma-separated origins (https://arrears.example.com) a form may be posted
               from besides the request's own scheme and host: only when a proxy or load balancer
               in front does not pass the browser's Host on (docs/scaling.md)
ARREARS_SESSION_HOURS        a signed-in session's life (default 8: a working day)
ARREARS_SESSION_CACHE_URL    a Redis every worker shares (redis://host:6379/1): sessions are then
                             read from it (Django's cached_db); unset: from the database alone
ARREARS_LOGIN_MAX_FAILURES   failed sign-ins (per user name and address) before a lock (default 5)
ARREARS_LOGIN_MAX_FAILURES_PER_ADDRESS  failed sign-ins from one address, whatever the names, before
                             the address is locked for every name (default 10: password spraying)
ARREARS_LOGIN_LOCK_MINUTES   how long the lock lasts, and the window counted (default 15)
ARREARS_TRUSTED_PROXY_HEADER the header a proxy in front of Arrears writes the client's address in
                             (e.g. X-Forwarded-For); unset (the default): REMOTE_ADDR only
ARREARS_TRUSTED_PROXIES      the proxies whose header is believed, addresses or networks separated
                             by commas (e.g. 10.0.0.1,10.0.1.0/24); needed with the header
ARREARS_DB_CONN_SECONDS      how long a database connection is kept for reuse (default 600; 0 closes
                             it after every request)
ARREARS_DB_POOLER            PostgreSQL through a pooler: "transaction" (PgBouncer in transaction
                             mode: no cursor held across transactions, nothing prepared on the
                             server) or "session"; unset: connections straight to PostgreSQL
ARREARS_SQLITE_TIMEOUT       SQLite: how long a write waits for the one before it (default 30 s)
SECURE_COOKIES               "1": served over HTTPS only: Secure session and CSRF cookies, HSTS
                             (ARREARS_HSTS_SECONDS, _SUBDOMAINS, _PRELOAD), plain HTTP redirected
                             (ARREARS_SSL_REDIRECT)
ARREARS_TRUSTED_PROXY        the addresses or networks (comma-separated) of the TLS-ending proxies
                             or load balancers whose X-Forwarded-Proto `arrears serve` believes
ARREARS_ARCHIVE_DIR      where rendered documents are archived (default ./archive)
ARREARS_ARCHIVE_STORAGE  a Django storage class for the archive instead of the file system, e.g.
                         storages.backends.s3.S3Storage (S3-compatible; install django-storages)
ARREARS_ARCHIVE_OPTIONS  JSON options for that storage, e.g. {"bucket_name": "letters"}
ARREARS_UPLOAD_MAX_BYTES the largest document added to an account by hand (default 10485760: 10 MB)
ARREARS_SETTLEMENT_APPROVAL_ABOVE  a settlement above this amount waits for approval (default 0:
                         every one); ARREARS_SETTLEMENT_GRACE_DAYS: an installment's grace (5)
ARREARS_BANK_NSF_FEE     the fee on a payment returned for insufficient funds (default 0: none),
                         capped by the account's state (docs/banking.md)
ARREARS_BANK_CASH_ONLY_AFTER  returns in 12 months that make an account "cash only" (default 2)
ARREARS_BANK_FILE_MAX_BYTES   the largest bank file imported (default 200000000: a lockbox's camt
                         of 100,000 lines is about 100 MB); a larger one is refused unread
ARREARS_DEPOSIT_RULES    a TOML file of deposit rules by jurisdiction over the built-in ones
                         (docs/moveout.md)
ARREARS_REFUND_DAYS      days within which a credit balance is refunded (default 30; a student's
                         Title IV credit balance: 14, by law)
ARREARS_COMPANY_NAME, ARREARS_COMPANY_ADDRESS (lines separated by ";"), ARREARS_COMPANY_PHONE,
ARREARS_COMPANY_EMAIL, ARREARS_COMPANY_WEBSITE   the letterhead and the letters' signature
ARREARS_COMPANY_SIGNER_NAME, ARREARS_COMPANY_SIGNER_TITLE   who signs the letters, and as what
EMAIL_URL      the SMTP server email goes through: smtp://user:pass@host:587 (STARTTLS),
               smtps://… (TLS), smtp://host:25; unset: no email is sent (docs/mail.md)
ARREARS_MAIL_FROM, ARREARS_MAIL_DOMAIN  the sender (default the company's email) and the domain
               of Message-IDs (default the sender's)
ARREARS_MAIL_RETRY  the waits before each new try of an email the server put off (a 4xx, a
               timeout): default "15m 1h 3h 6h 12h 24h"
ARREARS_MAIL_GIVE_UP_AFTER  an email put off is given up once every wait is spent and its first
               try is this old: default "2d"
IMAP_URL       the mailbox `mail fetch` reads: imaps://user:pass@host/INBOX
ARREARS_MAILDIR  the Maildir folder `mail fetch` reads when IMAP_URL is unset (default ./maildir)
SMS_URL        where texts go: file:///folder (JSON lines; the only adapter, it delivers nothing)
CELERY_BROKER_URL  a Redis (redis://host:6379/0) or RabbitMQ (amqp://user:pass@host:5672/vhost)
               the daily run hands its chunks to (`arrears worker` runs them); unset: in-process
ARREARS_RUN_CHUNK  accounts in each chunk of the daily run (default 2000): each is one transaction,
               and with a broker one task
ARREARS_EMAIL_BATCH  emails in each batch of `mail send` (default 200): one SMTP session, and with
               a broker one task
ARREARS_LETTER_CHUNK  letters in each chunk of the letters batch (default 200): with a broker one
               task each
ARREARS_IMPORT_PROCESSES  PostgreSQL: processes that read a large transactions file in parts and
               replay its cash application side by side (default on Linux: the CPUs this
               process may use, at most 4; elsewhere 1: all in the import's own process)
CELERY_QUEUE   the queue this book's tasks go through (default "arrears")
CELERY_VISIBILITY_TIMEOUT  Redis: seconds before a chunk taken by a worker that died is given to
               another (default 300; a chunk done twice adds nothing)
ARREARS_DAILY_AT  `arrears scheduler`: the local time (HH:MM, the book's zone) of the daily job
               (default 06:00): the run, the letter batch, the emails, the subscriptions
ARREARS_MAIL_FETCH_MINUTES  `arrears scheduler`: minutes between mail fetches (default 5; 0: none)
ARREARS_CATCH_UP_DAYS  the daily job runs the days missed since the last run, at most this many
               (default 31), oldest first
"""

import ipaddress
import os
import re
import secrets
from decimal import Decimal
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# The environment, read by django-environ (no .env file is read): numbers, URLs and JSON cast by it.
# Text is read as written: environ takes a value beginning with "$" for the name of another
# variable, with no switch to turn it off, and a secret or a company's name may begin with "$".
# A switch is on when it is "1" and off otherwise, as documented: not environ's looser bool, by
# which DEBUG=yes would turn on debug pages that it never turned on before.
env = environ.Env()


def _str(name: str, default: str = "") -> str:
    return env.ENVIRON.get(name, default)


def _on(name: str, default: str = "") -> bool:
    return _str(name, default) == "1"


def _names(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _str(name, default).split(",") if item.strip()]


DEBUG = _on("DEBUG")
# Only the environment gives a key; without one, a random key for this process, on which no server
# with DEBUG off starts (config/secret.py).
SECRET_KEY = _str("SECRET_KEY", "") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = _names("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = _names("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "arrears.core",
    "arrears.ledger",
    "arrears.banking",
    "arrears.dunning",
    "arrears.correspondence",
    "arrears.plans",
    "arrears.disputes",
    "arrears.legal",
    "arrears.moveout",
    "arrears.reports",
    "arrears.access",
    "arrears.api",
    "arrears.web",
    "django_htmx",
    "csp",
    "ninja",
    "pgtrigger",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "arrears.core.text.refuse_nul_text",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "arrears.web.context.workspace",
            ],
            "builtins": ["arrears.web.labels"],  # the `label` filter on every page
        },
    },
    {
        # the account page and its parts (arrears/web/jinja2/): see arrears/web/jinja.py
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "arrears.web.jinja.environment"},
    },
]

ARREARS_SQLITE_TIMEOUT = env.float("ARREARS_SQLITE_TIMEOUT", 30.0)

# A connection is kept for ARREARS_DB_CONN_SECONDS (default 600) and checked before reuse: opening
# one costs PostgreSQL a new backend process with cold caches, more CPU than a whole page's queries.
DATABASES = {"default": env.db_url("DATABASE_URL", "sqlite:///arrears.sqlite3")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("ARREARS_DB_CONN_SECONDS", 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web page read while an import writes. SQLite has one writer at a time: a write
    # waits up to ARREARS_SQLITE_TIMEOUT seconds (the busy timeout) for the one before it, and a
    # transaction takes the write lock when it begins (BEGIN IMMEDIATE): begun as a reader, it could
    # not wait for it later (SQLite answers "database is locked" at once when a transaction that
    # has read must write after another wrote). A write still locked out after the wait is a 503
    # with Retry-After (arrears.core.busy), never a 500.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": ARREARS_SQLITE_TIMEOUT,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )


# PostgreSQL reached through a pooler (docs/scaling.md, "N worker machines"): "transaction" for
# PgBouncer in transaction mode, where each transaction may go to another server connection, so
# nothing may live on a connection past its transaction: no cursor held across transactions
# (Django's `.iterator()` outside one: DISABLE_SERVER_SIDE_CURSORS) and no statement prepared
# on the server. "session" (or unset): a connection is the client's for its life.
ARREARS_DB_POOLER = _str("ARREARS_DB_POOLER", "").strip().lower()
if ARREARS_DB_POOLER not in ("", "session", "transaction"):
    raise ImproperlyConfigured(
        f"ARREARS_DB_POOLER: {ARREARS_DB_POOLER!r} is not a pooling mode: say transaction "
        "(PgBouncer in transaction mode) or session, or leave it unset"
    )
_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if _POSTGRES and ARREARS_DB_POOLER == "transaction":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# Parameters sent apart from the query text, so that a query asked again (every page asks the same
# dozen) is prepared once per connection by psycopg and not parsed and planned each time:
# PostgreSQL's CPU for the account page's reads halved. ARREARS_DB_SERVER_BINDING=0, or a pooler
# in transaction mode: values inlined as text, nothing prepared.
if (
    _POSTGRES
    and ARREARS_DB_POOLER != "transaction"
    and _str("ARREARS_DB_SERVER_BINDING", "1") != "0"
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "arrears" / "web" / "locale"]
# Spanish as New York and California write it: 17,075.00 and American dates (arrears/web/formats).
FORMAT_MODULE_PATH = ["arrears.web.formats"]
TIME_ZONE = _str("ARREARS_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = _str("STATIC_ROOT", "") or None  # set it to run collectstatic

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _str("LOG_LEVEL", "WARNING")},
}
WHITENOISE_USE_FINDERS = True

# Sign-in, sessions and passwords (the workspace and the API).
LOGIN_URL = "web:signin"
SESSION_COOKIE_AGE = env.int("ARREARS_SESSION_HOURS", 8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _on("SECURE_COOKIES")
if SESSION_COOKIE_SECURE:
    # Served over HTTPS only: browsers are told to come back by HTTPS alone for a year (HSTS,
    # RFC 6797), and a request by plain HTTP is redirected. Each can be turned down (README's
    # configuration); `manage.py check --deploy` then says what it misses.
    SECURE_HSTS_SECONDS = env.int("ARREARS_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _on("ARREARS_HSTS_SUBDOMAINS", "1")
    SECURE_HSTS_PRELOAD = _on("ARREARS_HSTS_PRELOAD", "1")
    SECURE_SSL_REDIRECT = _on("ARREARS_SSL_REDIRECT", "1")
# Behind a reverse proxy that ends TLS, the request the server sees is plain HTTP: `arrears serve`
# takes the proxy's X-Forwarded-Proto as the request's scheme, from ARREARS_TRUSTED_PROXY's
# addresses only (gunicorn's forwarded_allow_ips, arrears/cli/serve.py). Not Django's
# SECURE_PROXY_SSL_HEADER: it would believe the header from any client that reaches the server.
ARREARS_TRUSTED_PROXY = _str("ARREARS_TRUSTED_PROXY", "")

ARREARS_LOGIN_MAX_FAILURES = env.int("ARREARS_LOGIN_MAX_FAILURES", 5)
ARREARS_LOGIN_LOCK_MINUTES = env.int("ARREARS_LOGIN_LOCK_MINUTES", 15)
ARREARS_LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("ARREARS_LOGIN_MAX_FAILURES_PER_ADDRESS", 10)
# The client's address (arrears/access/addresses.py): REMOTE_ADDR, unless a proxy is trusted.
ARREARS_TRUSTED_PROXY_HEADER = _str("ARREARS_TRUSTED_PROXY_HEADER", "").strip()
ARREARS_TRUSTED_PROXIES = _names("ARREARS_TRUSTED_PROXIES")
for _proxy in ARREARS_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"ARREARS_TRUSTED_PROXIES: {_proxy!r} is not an address or a network"
        ) from None
if ARREARS_TRUSTED_PROXY_HEADER and not ARREARS_TRUSTED_PROXIES:
    raise ImproperlyConfigured(
        "ARREARS_TRUSTED_PROXY_HEADER is set but ARREARS_TRUSTED_PROXIES is not: name the proxies "
        "whose header is believed (anyone could send it)"
    )
AUTHENTICATION_BACKENDS = ["arrears.access.backends.ProfileBackend"]
# Django's database sessions, as they are, unless a cache every worker shares is configured.
# Not cached_db over the default cache: that cache is each worker process's own (LocMem), so a
# session signed out in one worker lived on in the others for its whole age
# (arrears/web/tests/test_serve.py holds that it does not, for both engines below). With
# ARREARS_SESSION_CACHE_URL (a Redis, e.g. redis://host:6379/1) sessions are cached_db over it:
# read from Redis, written through to the database, a sign-out seen by every worker at once.
# Measured (5,000 reads of one session by its key, this project's 2-core machine, load 1.8):
# db 252 µs on SQLite and 447 µs on PostgreSQL; cached_db over Redis 53 and 101 µs.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
ARREARS_SESSION_CACHE_URL = _str("ARREARS_SESSION_CACHE_URL")
if ARREARS_SESSION_CACHE_URL:
    if not ARREARS_SESSION_CACHE_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(
            "ARREARS_SESSION_CACHE_URL: a cache every worker shares is needed (redis://…);"
            f" {ARREARS_SESSION_CACHE_URL.split(':', 1)[0]!r} would be each worker's own"
        )
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sessions": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": ARREARS_SESSION_CACHE_URL,
        },
    }
    SESSION_CACHE_ALIAS = "sessions"
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The daily run's chunks go to Celery workers through this broker when it is set
# (arrears.core.broker, docs/scaling.md); unset, they run in the run's own process.
CELERY_BROKER_URL = _str("CELERY_BROKER_URL")
if CELERY_BROKER_URL and not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "amqp://")):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL: a Redis (redis://…) or RabbitMQ (amqp://…) broker is needed;"
        f" {CELERY_BROKER_URL.split(':', 1)[0]!r} is neither"
    )
CELERY_QUEUE = _str("CELERY_QUEUE", "arrears")
ARREARS_RUN_CHUNK = env.int("ARREARS_RUN_CHUNK", 2000)
ARREARS_LETTER_CHUNK = env.int("ARREARS_LETTER_CHUNK", 200)
# Linux says which CPUs this process may use; elsewhere (macOS has no sched_getaffinity, and
# forks less safely) an import stays in its own process unless told otherwise.
ARREARS_IMPORT_PROCESSES = env.int(
    "ARREARS_IMPORT_PROCESSES",
    min(4, len(os.sched_getaffinity(0)) or 1) if hasattr(os, "sched_getaffinity") else 1,
)
if ARREARS_IMPORT_PROCESSES < 1:
    raise ImproperlyConfigured("ARREARS_IMPORT_PROCESSES must be 1 or more")
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", 300)
ARREARS_EMAIL_BATCH = env.int("ARREARS_EMAIL_BATCH", 200)
if ARREARS_EMAIL_BATCH < 1:
    raise ImproperlyConfigured("ARREARS_EMAIL_BATCH must be 1 or more")
# The schedule `arrears scheduler` keeps (arrears.access.schedule, docs/scaling.md "Schedule").
ARREARS_DAILY_AT = _str("ARREARS_DAILY_AT", "06:00")
if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", ARREARS_DAILY_AT):
    raise ImproperlyConfigured(
        f"ARREARS_DAILY_AT: a local time HH:MM (00:00 to 23:59) is needed;"
        f" {ARREARS_DAILY_AT!r} is not"
    )
ARREARS_MAIL_FETCH_MINUTES = env.int("ARREARS_MAIL_FETCH_MINUTES", 5)
ARREARS_CATCH_UP_DAYS = env.int("ARREARS_CATCH_UP_DAYS", 31)
if ARREARS_MAIL_FETCH_MINUTES < 0 or ARREARS_CATCH_UP_DAYS < 1:
    raise ImproperlyConfigured(
        "ARREARS_MAIL_FETCH_MINUTES must be 0 or more, ARREARS_CATCH_UP_DAYS 1 or more"
    )
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
NINJA_PAGINATION_PER_PAGE = 50

# The Content-Security-Policy of every response (django-csp): scripts, styles, images and
# fonts from the workspace's own static files only (htmx is django-htmx's copy), no inline script,
# style or handler attribute, no plugin, no framing, forms posted only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Plans, promises and disputes (docs/plans-and-disputes.md): ARREARS_PLAN_<FIELD> overrides a
# field of arrears.plans.schedule.Limits (e.g. ARREARS_PLAN_MAX_INSTALLMENTS=6).
ARREARS_PLANS = {
    key[len("ARREARS_PLAN_") :].lower(): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ARREARS_PLAN_")
}
ARREARS_DISPUTE_DAYS = env.int("ARREARS_DISPUTE_DAYS", 30)
# A TOML file of deposit rules by jurisdiction over the built-in ones (arrears/moveout/
# deposit_rules.toml: the statement's clock, forfeiture, late fees, receipts, interest).
ARREARS_DEPOSIT_RULES = _str("ARREARS_DEPOSIT_RULES", "")
# Days within which a credit balance of an account that is not a student's is refunded (a
# student's Title IV credit balance: 14 days, 34 CFR §668.164(h)(2), in arrears.moveout.refunds).
ARREARS_REFUND_DAYS = env.int("ARREARS_REFUND_DAYS", 30)
# Settlements of a case (docs/legal.md): one above this amount waits for a manager of the
# property, a controller or an admin to approve it (0, the default: every settlement does), and
# an installment not paid this many days after its due date breaks it.
ARREARS_SETTLEMENT_APPROVAL_ABOVE = Decimal(env.str("ARREARS_SETTLEMENT_APPROVAL_ABOVE", "0"))
ARREARS_SETTLEMENT_GRACE_DAYS = env.int("ARREARS_SETTLEMENT_GRACE_DAYS", 5)
# Bank files (arrears.banking, docs/banking.md): the fee charged when a payment comes back for
# insufficient funds (0: none; capped by the account's jurisdiction), and how many returns in
# 12 months make an account "cash only" (0: never).
ARREARS_BANK_NSF_FEE = Decimal(env.str("ARREARS_BANK_NSF_FEE", "0"))
ARREARS_BANK_CASH_ONLY_AFTER = env.int("ARREARS_BANK_CASH_ONLY_AFTER", 2)
ARREARS_BANK_FILE_MAX_BYTES = env.int("ARREARS_BANK_FILE_MAX_BYTES", 200_000_000)
ARREARS_ACCELERATION_CLAUSE = _str(
    "ARREARS_ACCELERATION_CLAUSE",
    "If an installment is not paid within the grace period, the whole unpaid balance of this "
    "plan becomes due at once, and the owner may resume collection of it.",
)

# The document archive (arrears.correspondence.archive): every rendered document, stored once.
ARREARS_ARCHIVE_DIR = _str("ARREARS_ARCHIVE_DIR", "archive")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "archive": {
        "BACKEND": _str("ARREARS_ARCHIVE_STORAGE", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("ARREARS_ARCHIVE_OPTIONS", None) or {"location": ARREARS_ARCHIVE_DIR},
    },
}

# Documents added to an account by hand (arrears.correspondence.uploads): the largest accepted.
ARREARS_UPLOAD_MAX_BYTES = env.int("ARREARS_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)

# The company on the letterhead (merge field `company`).
ARREARS_COMPANY = {
    "name": _str("ARREARS_COMPANY_NAME", "Arrears Property Management"),
    "address_lines": [
        line.strip()
        for line in _str(
            "ARREARS_COMPANY_ADDRESS", "100 Main Street, Suite 200;Brooklyn, NY 11201"
        ).split(";")
        if line.strip()
    ],
    "phone": _str("ARREARS_COMPANY_PHONE", "(718) 555-0100"),
    "email": _str("ARREARS_COMPANY_EMAIL", "collections@example.com"),
    "website": _str("ARREARS_COMPANY_WEBSITE", ""),
    # The person who signs the letters for the company (docs/templates.md).
    "signer_name": _str("ARREARS_COMPANY_SIGNER_NAME", ""),
    "signer_title": _str("ARREARS_COMPANY_SIGNER_TITLE", ""),
}

# Mail, calls and texts (arrears.correspondence.mail_out, mail_in, sms; docs/mail.md).
EMAIL_URL = _str("EMAIL_URL", "")
ARREARS_MAIL_FROM = _str("ARREARS_MAIL_FROM", "")
ARREARS_MAIL_DOMAIN = _str("ARREARS_MAIL_DOMAIN", "")
ARREARS_MAIL_RETRY = _str("ARREARS_MAIL_RETRY", "")
ARREARS_MAIL_GIVE_UP_AFTER = _str("ARREARS_MAIL_GIVE_UP_AFTER", "")
IMAP_URL = _str("IMAP_URL", "")
ARREARS_MAILDIR = _str("ARREARS_MAILDIR", "maildir")
SMS_URL = _str("SMS_URL", "file://sms-outbox")
