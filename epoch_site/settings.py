"""Django settings for Epoch, built from the typed configuration in ``epoch_site.config``."""

from __future__ import annotations

import os

import dj_database_url

from epoch_site.config import BASE_DIR, load_config

EPOCH = load_config()

SECRET_KEY = EPOCH.secret_key
DEBUG = False
# Nodes are reached through a gateway vhost, by node address and by each other's advertised URL.
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "epoch_site.accounts",
    "topologies",
    "scheduler",
    "drove_client",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and authentication: the node that answers a request decides who may.
    "epoch_site.routing.LeaderRoutingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "epoch_site.urls"
WSGI_APPLICATION = "epoch_site.wsgi.application"
APPEND_SLASH = False  # API clients POST/PUT to exact paths; a redirect would drop their body

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "epoch_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "epoch_site.accounts.context_processors.roles",
            ],
        },
    },
]

if EPOCH.database_url:
    DATABASES = {"default": dj_database_url.parse(EPOCH.database_url, conn_max_age=60)}
else:
    EPOCH.db_path.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": EPOCH.db_path,
            "OPTIONS": {
                # The web server and the scheduler share this file: WAL lets readers run beside
                # one writer, and IMMEDIATE transactions queue writers instead of failing them.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Tests use a file too: the mirror's worker thread and the test share it as two
            # processes of a node do, which an in-memory database cannot show.
            # One file per test process, so that two test sessions never share a database.
            "TEST": {"NAME": EPOCH.data_dir / f"test-epoch-{os.getpid()}.sqlite3"},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Signed-cookie sessions need no shared store: any node holding the shared key accepts them.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_NAME = "epoch_session"
CSRF_COOKIE_NAME = "epoch_csrftoken"
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = EPOCH.options.time_zone
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
# The site's own assets (Bootstrap, scripts) live outside any app.
STATICFILES_DIRS = [BASE_DIR / "epoch_site" / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise expects it; collectstatic fills it in the image
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # the quick start serves assets without a collectstatic step

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # a topology is at most 1 MB of JSON

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "epoch_site.api.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["epoch_site.accounts.permissions.EpochRolePermission"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "epoch_site.api.exceptions.envelope_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "epoch_site.api.schema.EnvelopeSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Epoch API",
    "DESCRIPTION": "Schedule Docker tasks on Drove: topologies, runs and their tasks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["epoch_site.accounts.permissions.EpochRolePermission"],
    "SERVE_AUTHENTICATION": [
        "epoch_site.api.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Swagger UI's assets come from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

EPOCH_PACKAGES = ("epoch_site", "topologies", "scheduler", "drove_client")


def _logger_names(name: str) -> tuple[str, ...]:
    # The original's logger names (com.phonepe.epoch...) stand for all of Epoch's own packages.
    return EPOCH_PACKAGES if name.startswith("com.phonepe.epoch") else (name,)


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": EPOCH.logging_level},
    "loggers": {
        "kazoo": {"level": "WARNING"},
        **{
            logger: {"level": level}
            for name, level in EPOCH.logger_levels.items()
            for logger in _logger_names(name)
        },
    },
}
