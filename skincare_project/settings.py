"""
Settings for the skincare teledermatology platform.

One file, configured by environment variables (documented in README.md and .env.example) read
through django-environ. The defaults are for local development and tests: SQLite and a
filesystem Celery broker under var/, so nothing needs a server. Production sets DEBUG off, a
real SECRET_KEY, hosts, HTTPS, PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL).

Importing this module only reads: the folders under var/ are made where they are used (the
SQLite backend in skincare_project/sqlite3/, the broker's in skincare_project/celery.py, and
storage makes upload folders on save).
"""

from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured


class StrictEnv(environ.Env):
    """environ.Env that stops on a value it cannot read, naming the variable.

    Plain environ.Env reads an unknown boolean (DEBUG=ture) as False, keeps only the digits of
    a number (0.5x is 0.5) and takes a value starting with "$" as the name of another variable,
    so a password like "$ecret" would quietly become the default. A typo in production settings
    should stop the process instead. As before, an empty value counts as unset, except for a
    string (where empty may be meant: EMAIL_HOST_USER=).
    """

    BOOLEANS = {
        **dict.fromkeys(("true", "1", "yes", "on"), True),
        **dict.fromkeys(("false", "0", "no", "off"), False),
    }

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        value = self.ENVIRON.get(var)
        if value is None or (cast is not str and not value.strip()):
            if default is self.NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable")
            return default
        try:
            if cast is bool:
                return self.BOOLEANS[value.strip().lower()]
            if cast in (int, float):
                return cast(value.strip())
            return self.parse_value(value, cast)
        except (KeyError, ValueError) as exc:
            expected = {
                bool: "a boolean (true/false, 1/0, yes/no, on/off)",
                int: "a whole number",
                float: "a number",
            }.get(cast, "valid")
            raise ImproperlyConfigured(f"{var}={value!r} is not {expected}") from exc

    def names(self, var: str) -> list[str]:
        """A comma-separated list; spaces around items and empty items are dropped."""
        return [item.strip() for item in self.str(var, default="").split(",") if item.strip()]

    def probability(self, var: str) -> float | None:
        """Unset or empty means "not set"; anything else must be a number in 0..1."""
        number: float | None = self.float(var, default=None)
        if number is not None and not 0.0 <= number <= 1.0:
            value = self.ENVIRON[var]
            raise ImproperlyConfigured(f"{var}={value!r} must be a probability between 0 and 1")
        return number


env = StrictEnv()


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

# Used only when SECRET_KEY is not set (tests, `make run`). `check --deploy` flags it, and
# wsgi.py refuses to serve production traffic with it.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-this-key-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="") or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.names("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.names("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI's and Redoc's files, served from STATIC_URL: /api/docs/ works offline.
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "patients",
    "knowledge",
    "diagnosis",
    "review",
    "audit",
    "ml_worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the rest, so error answers carry the headers too.
    "skincare_project.middleware.ResponseHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    # A chunked body without Content-Length would reach the views as empty: 411 instead.
    "skincare_project.request_body.ChunkedBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a flagged lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "skincare_project.urls"
WSGI_APPLICATION = "skincare_project.wsgi.application"

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

# Database: PostgreSQL in production via DATABASE_URL, SQLite under var/ otherwise.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite, but it makes the database file's folder (var/) on first connect.
    DATABASES["default"]["ENGINE"] = "skincare_project.sqlite3"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts
AUTH_USER_MODEL = "patients.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # The rest only verify (and then upgrade) hashes created by other hashers.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses locked-out clients before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# django-axes: limit login attempts (web login, admin login and the API token endpoint).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)  # hours
# Lock the username+address pair: a stranger guessing at alice's password cannot lock alice
# out from her own address, and a single address cannot try many passwords for one account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "patients.security.lockout_response"
# One address per client for the throttles, axes and the audit log (see audit/addresses.py).
AXES_CLIENT_IP_CALLABLE = "audit.addresses.client_ip"
# How many reverse proxies of ours stand in front of the app, each appending the address it saw
# to X-Forwarded-For. 0: none (the client is REMOTE_ADDR, X-Forwarded-For is ignored), as when
# the app port is published directly. n: the n-th entry from the right is the client. Set it to
# the deployment: too high and a client picks its own address by sending the header; too low
# and every client shares the proxy's address, so one can throttle and lock out the rest.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured(f"NUM_PROXIES={NUM_PROXIES} must be 0 or more")

# The cache holds the throttles' counters, the dashboard's figures and the knowledge names. All
# processes (gunicorn's workers, runserver's, Celery's) must share it, or each counts only its
# own requests and a 30/minute limit lets 30 through per process. Default: files under
# var/cache/ (made on first write), shared without a server; docker compose: Redis.
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# Internationalization
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Static files are served by WhiteNoise from STATIC_ROOT after collectstatic.
STATIC_URL = "static/"
# Project-wide files (the favicon) beside templates/; each app keeps its own under <app>/static/.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))

# Uploaded files (lesion photos) are health data: they live in private storage and are only
# ever handed out by views that check who is asking. MEDIA_URL is deliberately not routed.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private_media")))
MEDIA_ROOT = PRIVATE_MEDIA_ROOT
MEDIA_URL = "/private-media-is-not-served/"
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="filesystem").strip().lower()
if STORAGE_BACKEND == "s3":
    # Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (read by boto3).
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default=""),
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND == "filesystem":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": MEDIA_URL},
    }
else:
    raise ImproperlyConfigured(
        f"STORAGE_BACKEND must be 'filesystem' or 's3', not {STORAGE_BACKEND!r}"
    )
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Skin-analysis data and model (see ml_worker/).
SKIN_DATA_DIR = Path(env.str("SKIN_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data")))
SKIN_MODEL_DIR = Path(env.str("SKIN_MODEL_DIR", default=str(BASE_DIR / "ml_worker" / "models")))

# Diagnosis workflow (diagnosis/, ml_worker/tasks.py).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
UPLOAD_STORED_MAX_SIDE = env.int("UPLOAD_STORED_MAX_SIDE", default=4096)  # px, longest side kept
ANALYSIS_QUEUE = env.str("ANALYSIS_QUEUE", default="celery")
ANALYSIS_MAX_ATTEMPTS = env.int("ANALYSIS_MAX_ATTEMPTS", default=3)
# The delay doubles with each try.
ANALYSIS_RETRY_DELAY_SECONDS = env.int("ANALYSIS_RETRY_DELAY_SECONDS", default=10)
ANALYSIS_SOFT_TIME_LIMIT = env.int("ANALYSIS_SOFT_TIME_LIMIT", default=60)
ANALYSIS_TIME_LIMIT = env.int("ANALYSIS_TIME_LIMIT", default=90)
# The sweeper re-sends analyses queued longer than this (a lost message) or running longer
# than the hard time limit plus a margin (a dead worker).
ANALYSIS_QUEUED_STALE_SECONDS = env.int("ANALYSIS_QUEUED_STALE_SECONDS", default=300)
ANALYSIS_RUNNING_STALE_SECONDS = env.int(
    "ANALYSIS_RUNNING_STALE_SECONDS", default=ANALYSIS_TIME_LIMIT + 30
)
ANALYSIS_SWEEP_INTERVAL_SECONDS = env.int("ANALYSIS_SWEEP_INTERVAL_SECONDS", default=60)
# A task that meets a database error is sent again this many times (1, 2, 4 ... 30 s apart:
# about 8 minutes of outage) before the sweeper's turn.
ANALYSIS_DB_RETRIES = env.int("ANALYSIS_DB_RETRIES", default=20)
# Flags that send an analysis to a dermatologist (see diagnosis/flags.py).
# Unset (the default): the model card's operating point decides the malignancy flag, and no
# per-type rule applies. Set, they override it (see diagnosis.flags.Thresholds).
FLAG_MALIGNANT_CLASS_MIN = env.probability("FLAG_MALIGNANT_CLASS_MIN")
FLAG_MALIGNANT_GROUP_MIN = env.probability("FLAG_MALIGNANT_GROUP_MIN")
FLAG_LOW_CONFIDENCE_BELOW = env.float("FLAG_LOW_CONFIDENCE_BELOW", default=0.50)
FLAG_POOR_QUALITY_REPEATS = env.int("FLAG_POOR_QUALITY_REPEATS", default=3)
# Dermatologists' review (review/services/claims.py). A claim not renewed by activity for
# this long is free for anyone to take.
REVIEW_CLAIM_MINUTES = env.int("REVIEW_CLAIM_MINUTES", default=30)
# How often beat frees abandoned claims (they lapse anyway; this records it on the timeline).
REVIEW_CLAIM_SWEEP_SECONDS = env.int("REVIEW_CLAIM_SWEEP_SECONDS", default=300)
# The dashboard's turnaround and agreement read every sign-off of their window; they are
# computed at most this often per window and kept in the cache (0: on every request).
DASHBOARD_FIGURES_MAX_AGE_SECONDS = env.int("DASHBOARD_FIGURES_MAX_AGE_SECONDS", default=120)
# What patients are told about when a flagged photo is reviewed, in working days, by the
# analysis' priority (diagnosis/patient_texts.py). Set them to what the rota can keep.
REVIEW_EXPECTED_DAYS = {
    "urgent": env.int("REVIEW_EXPECTED_DAYS_URGENT", default=2),
    "soon": env.int("REVIEW_EXPECTED_DAYS_SOON", default=5),
    "routine": env.int("REVIEW_EXPECTED_DAYS_ROUTINE", default=10),
}
# Where patients open the site, for links in notification emails (which carry no health data).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Security. Production sets these through the environment (see .env.example); the defaults
# suit plain-HTTP local development.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp) on every response: scripts only from our own files (no
# inline script or on* handler anywhere), <style> blocks only with the request's nonce
# ({{ request.csp_nonce }}). style="" attributes are allowed: the result and dashboard bars
# set their width with one, and CSS in an attribute cannot run code. img-src adds data: (Swagger
# UI's icons) and blob: (the upload form's preview of the chosen photo).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# The camera for this site's own pages only (patients photograph lesions: today through
# <input capture>, which needs no permission); nothing else, and nothing for embedded frames.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"

# Email (password reset now, notifications later). Console backend prints mail to stdout.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="skincare@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("AUTH_THROTTLE_RATE", default="30/minute")},
    # Unset, DRF would key the throttles on the whole X-Forwarded-For, which the client writes.
    "NUM_PROXIES": NUM_PROXIES,
    # A service's django ValidationError answers 400, like a serializer's.
    "EXCEPTION_HANDLER": "patients.api_errors.exception_handler",
    # OPTIONS answers without the per-field "actions" (the schema has them): DRF's own
    # metadata needs a serializer_class, which most of our views do not set.
    "DEFAULT_METADATA_CLASS": "skincare_project.api_metadata.NoActionsMetadata",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Skincare teledermatology API",
    "DESCRIPTION": (
        "Patients' and dermatologists' API. Authenticate with `Authorization: Token <key>` "
        "(get a key from /api/v1/auth/token/)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # From drf-spectacular-sidecar (pinned in requirements.txt), not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request and response components apart: an upload's file is `format: binary` in the
    # request (a FileField is a URL only when read back).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # 401/403/404/400/413/429 where each operation can answer them, in our JSON shape.
        "skincare_project.schema.add_error_responses",
    ],
    # A disease's urgency and a flag's priority are one choice set: one name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "UrgencyEnum": "knowledge.models.Urgency",
        # An analysis and a case both have a `status`, from different choice sets.
        "AnalysisStatusEnum": "diagnosis.models.AnalysisStatus",
        "CaseStatusEnum": "diagnosis.models.CaseStatus",
        # A flag and a timeline event both have a `kind` (the timeline's in two shapes).
        "FlagKindEnum": "diagnosis.models.FlagKind",
        "TimelineKindEnum": "audit.models.TimelineKind",
    },
}

# Celery. The default broker is kombu's filesystem transport, so `make run` needs no server
# but tasks still run in a separate worker process; CELERY_BROKER_URL=redis://... in production.
# There is no result backend: tasks record what they did on their own database rows.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # skincare_project/celery.py makes these folders when Celery reads its configuration.
    _celery_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder for both directions: producers write where the worker reads.
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only after it finished, and re-queued if its worker dies, so a killed
# worker loses nothing; tasks must therefore be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-analyses": {
        "task": "ml_worker.tasks.sweep_stuck_analyses",
        "schedule": float(ANALYSIS_SWEEP_INTERVAL_SECONDS),
    },
    "expire-review-claims": {
        "task": "review.tasks.expire_review_claims",
        "schedule": float(REVIEW_CLAIM_SWEEP_SECONDS),
    },
}

# Logging goes to stdout. Health data (photos, answers, results, profiles) is never logged:
# log object ids, not contents, and never log request bodies.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Axes logs every login at INFO; failures and lockouts still come through as warnings.
        "axes": {"level": "WARNING"},
    },
}
