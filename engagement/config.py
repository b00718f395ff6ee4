"""Every setting the platform reads, from environment variables only, validated at start-up."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from engagement import PROJECT_ROOT
from engagement.mail import addresses

ENVIRONMENTS = ("development", "production", "test")
MAIL_BACKENDS = ("outbox", "mailjet")
MEDIA_BUCKET_SCHEMES = ("s3", "gs", "gcs", "memory")  # fsspec's; memory:// only for tests
DEFAULT_SITE_URL = "http://127.0.0.1:5000"  # where `make run` serves
DEFAULT_MAIL_SENDER = "Engagement <ne-pas-repondre@engagement.local>"  # outside production only: no mail leaves


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Retention:
    """Days after which the daily purge erases or pseudonymises personal data (docs/privacy.md)."""

    unactivated_days: int = 30  # sign-ups never activated: erased
    anonymous_days: int = 90  # instances without an account, since their last change: answers removed
    invitation_friend_days: int = 30  # an invited friend's address and name: then only a keyed hash
    inactive_member_days: int = 1095  # members not seen (login, activation) for this long: erased
    warning_days: int = 30  # ...after a mail sent this many days before
    event_guest_days: int = 90  # registrations without an account, after the event's end: names and address removed
    mail_days: int = 365  # the mail ledger: a delivered message's recipients, subject and words removed


@dataclass(frozen=True)
class Donations:
    """Taking donations (docs/donations.md): Stripe's keys, or none for a developer's stand-in provider (never in
    production), and the financing association every tax receipt names."""

    stripe_secret_key: str | None  # None: the stand-in provider of web/dev/payments.py (development and tests)
    stripe_webhook_secret: str | None
    stripe_api_url: str | None  # another Stripe API address (a loopback fake in tests and benchmarks)
    beneficiary_name: str
    beneficiary_address: tuple[str, ...]
    approval: str  # the CNCCFP's approval of the financing association, as receipts print it
    treasurer: str  # who signs the receipts


DEMO_BENEFICIARY = ("Association de financement du mouvement Engagement (démonstration)",
                    ("1 rue de l’Exemple", "75001 Paris"),
                    "Démonstration : aucun agrément, ce reçu n’ouvre droit à aucune réduction",
                    "Trésorier de démonstration")


def _donations(env: Mapping[str, str], app_env: str) -> Donations | None:
    """Stripe's keys and the association: all of them in production (or none: donations closed), any of them
    elsewhere (the stand-in provider and the demonstration association fill what is missing)."""
    values = {  # each named where it is read: the chart's tests find the variables in this source
        "STRIPE_SECRET_KEY": _optional(env, "STRIPE_SECRET_KEY"),
        "STRIPE_WEBHOOK_SECRET": _optional(env, "STRIPE_WEBHOOK_SECRET"),
        "DONATIONS_BENEFICIARY_NAME": _optional(env, "DONATIONS_BENEFICIARY_NAME"),
        "DONATIONS_BENEFICIARY_ADDRESS": _optional(env, "DONATIONS_BENEFICIARY_ADDRESS"),
        "DONATIONS_APPROVAL": _optional(env, "DONATIONS_APPROVAL"),
        "DONATIONS_TREASURER": _optional(env, "DONATIONS_TREASURER"),
    }
    names = tuple(values)
    api_url = _optional(env, "STRIPE_API_URL")
    if app_env == "production":
        if not any(values.values()):
            return None
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ConfigError(f"donations need {', '.join(missing)} too (or none of {', '.join(names)}: "
                              "donations closed)")
    if values["STRIPE_SECRET_KEY"] and not values["STRIPE_WEBHOOK_SECRET"]:
        raise ConfigError("STRIPE_SECRET_KEY needs STRIPE_WEBHOOK_SECRET: a webhook is believed only when signed")
    name, address, approval, treasurer = DEMO_BENEFICIARY
    lines = tuple(line.strip() for line in (values["DONATIONS_BENEFICIARY_ADDRESS"] or "").split("|") if line.strip())
    return Donations(
        stripe_secret_key=values["STRIPE_SECRET_KEY"], stripe_webhook_secret=values["STRIPE_WEBHOOK_SECRET"],
        stripe_api_url=api_url,
        beneficiary_name=values["DONATIONS_BENEFICIARY_NAME"] or name, beneficiary_address=lines or address,
        approval=values["DONATIONS_APPROVAL"] or approval, treasurer=values["DONATIONS_TREASURER"] or treasurer)


@dataclass(frozen=True)
class Settings:
    """The typed view of the environment; `load_settings` is the only constructor callers use."""

    env: str
    instance_dir: Path | None
    database_url: str
    secret_key: str
    redis_url: str | None
    redis_prefix: str  # before every Redis key: several deployments (or test runs) may share one Redis
    celery_broker_url: str | None
    mail_backend: str
    mail_sender: str
    mailjet_api_key: str | None
    mailjet_api_secret: str | None
    mailjet_api_url: str | None
    mailjet_webhook_secret: str | None  # the password Mailjet's event callback URL carries (Basic auth)
    mail_claim_lease: int  # seconds a claimed message is left to the worker sending it (see docs/mail.md)
    algolia_app_id: str | None
    algolia_api_key: str | None
    algolia_hosts: tuple[str, ...]
    algolia_index: str  # one index holds committees, events and pages (a facet tells them apart)
    workflows_dir: Path
    default_locale: str
    site_url: str
    media_storage_url: str | None  # file:///dir or s3://bucket/prefix; None: uploads refused (docs/media.md)
    media_cache_dir: Path  # resized variants, one file each (a cache: may be emptied at any time)
    trusted_proxies: int  # proxies in front whose X-Forwarded-* headers are believed (0: none, the headers are ignored)
    retention: Retention  # how long personal data is kept (engagement.privacy.retention applies it daily)
    privacy_controller: str | None = None  # who answers for the data; None: MAIL_SENDER's name (docs/privacy.md)
    privacy_dpo_email: str | None = None  # the data protection officer's address; None: the contact page
    heartbeat_file: Path | None = None  # touched by a worker's or beat's loop; their probes read its age
    donations: Donations | None = None  # None: donations closed (production without Stripe's keys)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_development(self) -> bool:
        return self.env == "development"


class _WithFiles(Mapping[str, str]):
    """The environment, where a variable NAME may instead be given as NAME_FILE, the path of a file holding its
    value (a Secret mounted as files keeps credentials out of the environment, which child processes inherit).

    Only the names settings ask for are looked up, so other ``*_FILE`` variables (``SSL_CERT_FILE``) are left
    alone. A file missing from an existing folder leaves NAME unset: Kubernetes leaves out the optional keys a
    mounted Secret lacks."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._files = {key[:-5]: path.strip() for key, path in env.items() if key.endswith("_FILE") and path.strip()}
        self._read: dict[str, str | None] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._files:
            return self._env[name]
        if self._env.get(name, "").strip():
            raise ConfigError(f"{name} and {name}_FILE are both set: give one of them")
        if name not in self._read:
            self._read[name] = _read_setting_file(f"{name}_FILE", Path(self._files[name]))
        if (value := self._read[name]) is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(set(self._env) | set(self._files))

    def __len__(self) -> int:
        return len(set(self._env) | set(self._files))


def _read_setting_file(variable: str, path: Path) -> str | None:
    """The value in ``path`` without the line end an editor or ``echo`` adds; None when the file is missing."""
    if not path.parent.is_dir():
        raise ConfigError(f"{variable} names {path}, whose folder does not exist")
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError) as exc:  # the message names the file, never what it holds
        raise ConfigError(f"{variable}: cannot read {path} ({getattr(exc, 'strerror', None) or type(exc).__name__})") \
            from None


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < minimum:
        raise ConfigError(f"{name} must be a whole number of seconds, at least {minimum}")
    return int(value)


def _count(env: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) > maximum:
        raise ConfigError(f"{name} must be a whole number from 0 to {maximum}")
    return int(value)


def _days(env: Mapping[str, str], name: str, default: int, minimum: int, why: str = "") -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not minimum <= int(value) <= 36500:
        raise ConfigError(f"{name} must be a whole number of days, from {minimum} to 36500{why}")
    return int(value)


def _retention(env: Mapping[str, str]) -> Retention:
    default = Retention()
    policy = Retention(
        unactivated_days=_days(env, "RETENTION_UNACTIVATED_DAYS", default.unactivated_days, 3,
                               " (an activation link is valid 48 hours)"),
        anonymous_days=_days(env, "RETENTION_ANONYMOUS_DAYS", default.anonymous_days, 14,
                             " (a visitor's session lasts 14 days: they may still be filling the form in)"),
        invitation_friend_days=_days(env, "RETENTION_INVITATION_FRIEND_DAYS", default.invitation_friend_days, 7,
                                     " (the invitations' abuse rules look back 7 days)"),
        inactive_member_days=_days(env, "RETENTION_INACTIVE_MEMBER_DAYS", default.inactive_member_days, 2),
        warning_days=_days(env, "RETENTION_WARNING_DAYS", default.warning_days, 1),
        event_guest_days=_days(env, "RETENTION_EVENT_GUEST_DAYS", default.event_guest_days, 1),
        mail_days=_days(env, "RETENTION_MAIL_DAYS", default.mail_days, 30,
                        " (a bounce or a complaint may come weeks after a message)"),
    )
    if policy.warning_days >= policy.inactive_member_days:
        raise ConfigError("RETENTION_WARNING_DAYS must be fewer than RETENTION_INACTIVE_MEMBER_DAYS "
                          "(inactive members are warned that many days before their account is erased)")
    return policy


def _address(env: Mapping[str, str], name: str) -> str | None:
    """An address people are told to write to: by the one address rule (engagement.mail.addresses)."""
    value = _optional(env, name)
    if value is not None and not addresses.reaches(value):
        raise ConfigError(f"{name} must be an email address mail reaches, like dpo@example.org, not {value!r}")
    return value


def _instance_dir(env: Mapping[str, str]) -> Path | None:
    if "ENGAGEMENT_INSTANCE_DIR" in env and not env["ENGAGEMENT_INSTANCE_DIR"].strip():
        return None  # explicitly unset: a read-only application
    return Path(env.get("ENGAGEMENT_INSTANCE_DIR") or "./instance").resolve()


def _secret_key(env: Mapping[str, str], app_env: str, instance_dir: Path | None) -> str:
    if key := _optional(env, "SECRET_KEY"):
        return key
    if app_env == "production":
        raise ConfigError("SECRET_KEY is required when ENGAGEMENT_ENV=production")
    if instance_dir is None:
        raise ConfigError("SECRET_KEY is required when ENGAGEMENT_INSTANCE_DIR is unset")
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url(env: Mapping[str, str], instance_dir: Path | None) -> str:
    if url := _optional(env, "DATABASE_URL"):
        if url.startswith("mysql") and "charset=" not in url:
            url += ("&" if "?" in url else "?") + "charset=utf8mb4"
        return url
    if instance_dir is None:
        raise ConfigError("DATABASE_URL is required when ENGAGEMENT_INSTANCE_DIR is unset")
    instance_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_dir / 'engagement.db'}"


def _media_storage_url(env: Mapping[str, str], instance_dir: Path | None) -> str | None:
    value = _optional(env, "MEDIA_STORAGE_URL")
    if value is None:
        return (instance_dir / "media").as_uri() if instance_dir is not None else None
    if value.startswith("/"):
        return Path(value).as_uri()
    scheme, _, rest = value.partition("://")
    if scheme == "file" and rest.startswith("/"):
        return value.rstrip("/")
    if scheme in MEDIA_BUCKET_SCHEMES and rest.strip("/"):
        return value.rstrip("/")
    raise ConfigError("MEDIA_STORAGE_URL must be an absolute path, file:///path, s3://bucket/prefix or "
                      f"gs://bucket/prefix, not {value!r}")


def _absolute_path(env: Mapping[str, str], name: str) -> Path | None:
    value = _optional(env, name)
    if value is not None and not value.startswith("/"):
        raise ConfigError(f"{name} must be an absolute path, not {value!r}")
    return Path(value) if value is not None else None


def _media_cache_dir(env: Mapping[str, str], instance_dir: Path | None) -> Path:
    if value := _optional(env, "MEDIA_CACHE_DIR"):
        if not value.startswith("/"):
            raise ConfigError("MEDIA_CACHE_DIR must be an absolute path")
        return Path(value)
    if instance_dir is not None:
        return instance_dir / "cache" / "media"
    return Path(tempfile.gettempdir()) / "engagement-media"  # $TMPDIR: /tmp, the container's only writable place


def _production_setting(env: Mapping[str, str], name: str, app_env: str, why: str) -> str:
    """``name``'s value, stripped ("" when unset); production refuses to start without it, saying ``why``."""
    value = env.get(name, "").strip()
    if not value and app_env == "production":
        raise ConfigError(f"{name} is required when ENGAGEMENT_ENV=production ({why})")
    return value


def _site_url(env: Mapping[str, str], app_env: str) -> str:
    """The public URL links in mail start with: SITE_URL, which `engagement serve` sets from its --host and
    --port when unset (never from a request's Host header); production refuses to start without it."""
    value = _production_setting(env, "SITE_URL", app_env, "the public URL of the site, e.g. "
                                "https://agir.example.org: links in mail start with it")
    if not value:
        return DEFAULT_SITE_URL
    if not _absolute_http(value):
        raise ConfigError(f"SITE_URL must be an absolute http(s) URL like https://agir.example.org, not {value!r}")
    return value.rstrip("/")


def _mail_sender(env: Mapping[str, str], app_env: str) -> str:
    """The platform's sender, ``Name <address>`` or a bare address, as every mail's From (the name also before
    the "(via ...)" of mail sent on someone's behalf). Always one mailbox whose name shows as written;
    production requires it, at an address mail reaches (engagement.mail.addresses), since replies, bounces
    and the receiving servers' checks all go to its domain."""
    value = _production_setting(env, "MAIL_SENDER", app_env, "the movement's sender, e.g. Le mouvement "
                                "<ne-pas-repondre@agir.example.org>: every mail is from it")
    if not value:
        return DEFAULT_MAIL_SENDER
    try:
        addresses.mailbox(value)
    except addresses.AddressError as exc:
        if app_env == "production" or exc.kind != addresses.DOMAIN:  # elsewhere nothing leaves: a local name
            raise ConfigError(f"MAIL_SENDER must be one address mail reaches, after a name or not, like "
                              f"Le mouvement <ne-pas-repondre@agir.example.org>, not {value!r}: {exc}") from None
    return value


def _absolute_http(value: str) -> bool:
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - a port that is not a number raises
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not (parts.query or parts.fragment)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment (``os.environ`` by default); any variable may come from a file, NAME_FILE."""
    env = _WithFiles(os.environ if env is None else env)
    app_env = _choice(env, "ENGAGEMENT_ENV", ENVIRONMENTS, "development")
    instance_dir = _instance_dir(env)
    mail_backend = _choice(env, "MAIL_BACKEND", MAIL_BACKENDS, "outbox")
    if mail_backend == "mailjet" and not (
        _optional(env, "MAILJET_API_KEY") and _optional(env, "MAILJET_API_SECRET")
    ):
        raise ConfigError("MAIL_BACKEND=mailjet needs MAILJET_API_KEY and MAILJET_API_SECRET")
    hosts = tuple(h.strip() for h in env.get("ALGOLIA_HOSTS", "").split(",") if h.strip())
    if _optional(env, "ALGOLIA_APP_ID") and not _optional(env, "ALGOLIA_API_KEY"):
        raise ConfigError("ALGOLIA_APP_ID needs ALGOLIA_API_KEY (unset both for the local search)")
    return Settings(
        env=app_env,
        instance_dir=instance_dir,
        database_url=_database_url(env, instance_dir),
        secret_key=_secret_key(env, app_env, instance_dir),
        redis_url=_optional(env, "REDIS_URL"),
        redis_prefix=env.get("REDIS_PREFIX", "").strip(),
        celery_broker_url=_optional(env, "CELERY_BROKER_URL"),
        mail_backend=mail_backend,
        mailjet_api_key=_optional(env, "MAILJET_API_KEY"),
        mailjet_api_secret=_optional(env, "MAILJET_API_SECRET"),
        mailjet_api_url=_optional(env, "MAILJET_API_URL"),
        mailjet_webhook_secret=_optional(env, "MAILJET_WEBHOOK_SECRET"),
        mail_claim_lease=_seconds(env, "MAIL_CLAIM_LEASE", 120, minimum=3),
        algolia_app_id=_optional(env, "ALGOLIA_APP_ID"),
        algolia_api_key=_optional(env, "ALGOLIA_API_KEY"),
        algolia_hosts=hosts,
        algolia_index=env.get("ALGOLIA_INDEX", "").strip() or "engagement",
        workflows_dir=Path(env.get("ENGAGEMENT_WORKFLOWS_DIR") or PROJECT_ROOT / "workflows"),
        default_locale=_choice(env, "ENGAGEMENT_DEFAULT_LOCALE", ("fr", "en"), "fr"),
        site_url=_site_url(env, app_env),
        mail_sender=_mail_sender(env, app_env),  # after SITE_URL: a deployment missing both hears of SITE_URL first
        media_storage_url=_media_storage_url(env, instance_dir),
        media_cache_dir=_media_cache_dir(env, instance_dir),
        trusted_proxies=_count(env, "TRUSTED_PROXIES", 0, maximum=5),
        retention=_retention(env),
        privacy_controller=_optional(env, "PRIVACY_CONTROLLER"),
        privacy_dpo_email=_address(env, "PRIVACY_DPO_EMAIL"),
        heartbeat_file=_absolute_path(env, "HEARTBEAT_FILE"),
        donations=_donations(env, app_env),
    )
