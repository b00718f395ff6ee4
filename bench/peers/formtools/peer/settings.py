"""Production-like settings, read from the environment bench/wizard_peers.py sets.

Embedded: SQLite in WAL mode (``PEER_SQLITE_PATH``) with database sessions. Services
(``PEER_MYSQL_DATABASE`` set): MariaDB through PyMySQL, sessions in Redis (``PEER_REDIS_URL``).
"""

import os
from pathlib import Path

ENV = os.environ
BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = ENV["PEER_SECRET_KEY"]  # one for all workers (sessions and CSRF tokens are signed with it)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["django.contrib.sessions", "formtools", "peer"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.csrf"]}}]

LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if ENV.get("PEER_MYSQL_DATABASE"):
    import pymysql

    pymysql.install_as_MySQLdb()
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.mysql", "NAME": ENV["PEER_MYSQL_DATABASE"],
        "USER": ENV.get("PEER_MYSQL_USER", "root"), "PASSWORD": ENV.get("PEER_MYSQL_PASSWORD", ""),
        "HOST": ENV.get("PEER_MYSQL_HOST", ""), "PORT": ENV.get("PEER_MYSQL_PORT", ""),
        "CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"charset": "utf8mb4", **({"unix_socket": ENV["PEER_MYSQL_SOCKET"]}
                                             if ENV.get("PEER_MYSQL_SOCKET") else {})},
    }}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": ENV.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/0"),
                          "KEY_PREFIX": ENV.get("PEER_REDIS_PREFIX", "peer")}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3", "NAME": ENV.get("PEER_SQLITE_PATH", str(BASE_DIR / "peer.db")),
        "CONN_MAX_AGE": 600,
        # Django 5.1+: what the app does too (engagement/db.py): WAL, synchronous=NORMAL, BEGIN IMMEDIATE
        # (and Django's default busy timeout, 5 s, is the app's).
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                    "transaction_mode": "IMMEDIATE"},
    }}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
