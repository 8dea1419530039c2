"""
Settings for the skincare teledermatology platform.

One file, configured by environment variables (documented in README.md and .env.example).
The defaults are for local development and tests: SQLite and a filesystem Celery broker under
var/, so nothing needs a server. Production sets DEBUG off, a real SECRET_KEY, hosts, HTTPS,
PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL).
"""

import os
from pathlib import Path

import dj_database_url


def env_bool(name: str, default: bool = False) -> bool:
    value = os.getenv(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.getenv(name, "").strip()
    return int(value) if value else default


def env_float_or_none(name: str) -> float | None:
    """A probability setting; unset or empty means "not set", anything else must be in 0..1."""
    value = os.getenv(name, "").strip()
    if not value:
        return None
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name}={value!r} must be a probability between 0 and 1")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# Used only when SECRET_KEY is not set (tests, `make run`). `check --deploy` flags it, and
# wsgi.py refuses to serve production traffic with it.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-this-key-in-production"
SECRET_KEY = os.getenv("SECRET_KEY") or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

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
    "patients",
    "knowledge",
    "diagnosis",
    "audit",
    "ml_worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
if not os.getenv("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
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
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = float(os.getenv("AXES_COOLOFF_HOURS", "1"))  # hours
# Lock the username+address pair: a stranger guessing at alice's password cannot lock alice
# out from her own address, and a single address cannot try many passwords for one account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "patients.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "patients.security.client_ip"
# Number of trusted reverse proxies in front of the app that append to X-Forwarded-For.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

# Internationalization
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static files are served by WhiteNoise from STATIC_ROOT after collectstatic.
STATIC_URL = "static/"
# Project-wide files (the favicon) beside templates/; each app keeps its own under <app>/static/.
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", str(VAR_DIR / "staticfiles")))

# Uploaded files (lesion photos) are health data: they live in private storage and are only
# ever handed out by views that check who is asking. MEDIA_URL is deliberately not routed.
PRIVATE_MEDIA_ROOT = Path(os.getenv("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private_media")))
MEDIA_ROOT = PRIVATE_MEDIA_ROOT
MEDIA_URL = "/private-media-is-not-served/"
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGE_BACKEND = os.getenv("STORAGE_BACKEND", "filesystem").strip().lower()
if STORAGE_BACKEND == "s3":
    # Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (read by boto3).
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.getenv("AWS_STORAGE_BUCKET_NAME", ""),
            "region_name": os.getenv("AWS_S3_REGION_NAME") or None,
            "endpoint_url": os.getenv("AWS_S3_ENDPOINT_URL") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND == "filesystem":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": MEDIA_URL},
    }
else:
    raise ValueError(f"STORAGE_BACKEND must be 'filesystem' or 's3', not {STORAGE_BACKEND!r}")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Skin-analysis data and model (see ml_worker/).
SKIN_DATA_DIR = Path(os.getenv("SKIN_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))
SKIN_MODEL_DIR = Path(os.getenv("SKIN_MODEL_DIR", str(BASE_DIR / "ml_worker" / "models")))

# Diagnosis workflow (diagnosis/, ml_worker/tasks.py).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 40_000_000)
UPLOAD_STORED_MAX_SIDE = env_int("UPLOAD_STORED_MAX_SIDE", 4096)  # px, longest side kept
ANALYSIS_QUEUE = os.getenv("ANALYSIS_QUEUE", "celery")
ANALYSIS_MAX_ATTEMPTS = env_int("ANALYSIS_MAX_ATTEMPTS", 3)
ANALYSIS_RETRY_DELAY_SECONDS = env_int("ANALYSIS_RETRY_DELAY_SECONDS", 10)  # doubles per try
ANALYSIS_SOFT_TIME_LIMIT = env_int("ANALYSIS_SOFT_TIME_LIMIT", 60)
ANALYSIS_TIME_LIMIT = env_int("ANALYSIS_TIME_LIMIT", 90)
# The sweeper re-sends analyses queued longer than this (a lost message) or running longer
# than the hard time limit plus a margin (a dead worker).
ANALYSIS_QUEUED_STALE_SECONDS = env_int("ANALYSIS_QUEUED_STALE_SECONDS", 300)
ANALYSIS_RUNNING_STALE_SECONDS = env_int("ANALYSIS_RUNNING_STALE_SECONDS", ANALYSIS_TIME_LIMIT + 30)
ANALYSIS_SWEEP_INTERVAL_SECONDS = env_int("ANALYSIS_SWEEP_INTERVAL_SECONDS", 60)
# Flags that send an analysis to a dermatologist (see diagnosis/flags.py).
# Unset (the default): the model card's operating point decides the malignancy flag, and no
# per-type rule applies. Set, they override it (see diagnosis.flags.Thresholds).
FLAG_MALIGNANT_CLASS_MIN = env_float_or_none("FLAG_MALIGNANT_CLASS_MIN")
FLAG_MALIGNANT_GROUP_MIN = env_float_or_none("FLAG_MALIGNANT_GROUP_MIN")
FLAG_LOW_CONFIDENCE_BELOW = float(os.getenv("FLAG_LOW_CONFIDENCE_BELOW", "0.50"))
FLAG_POOR_QUALITY_REPEATS = env_int("FLAG_POOR_QUALITY_REPEATS", 3)
# Dermatologists' review (diagnosis/review_services.py). A claim not renewed by activity for
# this long is free for anyone to take.
REVIEW_CLAIM_MINUTES = env_int("REVIEW_CLAIM_MINUTES", 30)
# How often beat frees abandoned claims (they lapse anyway; this records it on the timeline).
REVIEW_CLAIM_SWEEP_SECONDS = env_int("REVIEW_CLAIM_SWEEP_SECONDS", 300)
# What patients are told about when a flagged photo is reviewed, in working days, by the
# analysis' priority (diagnosis/patient_texts.py). Set them to what the rota can keep.
REVIEW_EXPECTED_DAYS = {
    "urgent": env_int("REVIEW_EXPECTED_DAYS_URGENT", 2),
    "soon": env_int("REVIEW_EXPECTED_DAYS_SOON", 5),
    "routine": env_int("REVIEW_EXPECTED_DAYS_ROUTINE", 10),
}
# Where patients open the site, for links in notification emails (which carry no health data).
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")

# Security. Production sets these through the environment (see .env.example); the defaults
# suit plain-HTTP local development.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Email (password reset now, notifications later). Console backend prints mail to stdout.
EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "skincare@localhost")
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
    "DEFAULT_THROTTLE_RATES": {"auth": os.getenv("AUTH_THROTTLE_RATE", "30/minute")},
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
    # A disease's urgency and a flag's priority are one choice set: one name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "UrgencyEnum": "knowledge.models.Urgency",
        # An analysis and a case both have a `status`, from different choice sets.
        "AnalysisStatusEnum": "diagnosis.models.AnalysisStatus",
        "CaseStatusEnum": "diagnosis.models.CaseStatus",
    },
}

# Celery. The default broker is kombu's filesystem transport, so `make run` needs no server
# but tasks still run in a separate worker process; CELERY_BROKER_URL=redis://... in production.
# There is no result backend: tasks record what they did on their own database rows.
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
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
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-analyses": {
        "task": "ml_worker.tasks.sweep_stuck_analyses",
        "schedule": float(ANALYSIS_SWEEP_INTERVAL_SECONDS),
    },
    "expire-review-claims": {
        "task": "diagnosis.tasks.expire_review_claims",
        "schedule": float(REVIEW_CLAIM_SWEEP_SECONDS),
    },
}

# Logging goes to stdout. Health data (photos, answers, results, profiles) is never logged:
# log object ids, not contents, and never log request bodies.
LOG_LEVEL = os.getenv("LOG_LEVEL", "INFO").upper()
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
