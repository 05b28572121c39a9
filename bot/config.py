"""All settings, read from the environment in one place.

Nothing is read at import time: call `get_settings()` (cached) and
`reset_settings()` in tests after changing the environment.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple
from typing import Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

DEV_CHAT_SECRET = "dev-chat-secret-change-me-in-production-0000"
DEV_PORTAL_SECRET = "dev-portal-secret-change-me-in-production-00"


class ConfigurationError(RuntimeError):
    """Raised when the environment describes an unsafe or invalid set-up."""


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    tracker_store_url: str
    lock_store_url: str
    chat_jwt_secret: str
    portal_secret_key: str
    action_endpoint: str
    rasa_url: str
    school_contact: str
    school_confidant: str
    chat_token_minutes: int
    retention_reflection_days: int = 400
    retention_chat_days: int = 30
    retention_analytics_days: int = 365
    retention_safety_days: int = 730
    retention_audit_days: int = 730
    chat_rate_burst: int = 8
    chat_rate_per_minute: int = 30
    rasa_request_max_bytes: int = 1024 * 1024
    # Fernet keys (bot/crypto.py): the first encrypts, all decrypt. Empty = the
    # development key file in var/ (refused in production).
    data_encryption_keys: Tuple[str, ...] = ()
    # Keys of `python -m bot backup` files (bot/backup.py); empty = the data keys.
    backup_encryption_keys: Tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def _default_sqlite(name: str) -> str:
    return f"sqlite:///{VAR_DIR / name}"


def _positive_days(name: str, default: int) -> int:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number of days, got {raw!r}")
    if value <= 0:
        raise ConfigurationError(f"{name} must be greater than 0, got {value}")
    return value


def _positive_int(name: str, default: int, maximum: Optional[int] = None) -> int:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}")
    if value <= 0 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigurationError(f"{name} must be greater than 0{limit}, got {value}")
    return value


def _fernet_keys(name: str) -> Tuple[str, ...]:
    """Comma-separated Fernet keys from the environment; never echoes a key."""
    keys = tuple(part.strip() for part in (os.environ.get(name) or "").split(",") if part.strip())
    if keys:
        from cryptography.fernet import Fernet

        for number, key in enumerate(keys, start=1):
            try:
                Fernet(key.encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise ConfigurationError(
                    f"{name}: key {number} is not a valid key (32 bytes, URL-safe base64); "
                    "make one with `python -m bot keys generate`"
                )
    return keys


def _load() -> Settings:
    env = os.environ.get
    settings = Settings(
        environment=env("APP_ENV", "development").strip().lower(),
        database_url=env("DATABASE_URL") or _default_sqlite("coach.db"),
        tracker_store_url=env("TRACKER_STORE_URL") or _default_sqlite("tracker.db"),
        lock_store_url=env("LOCK_STORE_URL", "").strip(),
        chat_jwt_secret=env("CHAT_JWT_SECRET") or DEV_CHAT_SECRET,
        portal_secret_key=env("PORTAL_SECRET_KEY") or DEV_PORTAL_SECRET,
        action_endpoint=env("ACTION_ENDPOINT") or "http://localhost:5055/webhook",
        rasa_url=env("RASA_URL") or "http://localhost:5005",
        school_contact=env("SCHOOL_CONTACT")
        or "je BPV-begeleider van school (via de schoolapp of het BPV-bureau)",
        school_confidant=env("SCHOOL_CONFIDANT")
        or "de vertrouwenspersoon van je school",
        chat_token_minutes=_positive_int("CHAT_TOKEN_MINUTES", 2, maximum=24 * 60),
        retention_reflection_days=_positive_days("RETENTION_REFLECTION_DAYS", 400),
        retention_chat_days=_positive_days("RETENTION_CHAT_DAYS", 30),
        retention_analytics_days=_positive_days("RETENTION_ANALYTICS_DAYS", 365),
        retention_safety_days=_positive_days("RETENTION_SAFETY_DAYS", 730),
        retention_audit_days=_positive_days("RETENTION_AUDIT_DAYS", 730),
        chat_rate_burst=_positive_int("CHAT_RATE_BURST", 8),
        chat_rate_per_minute=_positive_int("CHAT_RATE_PER_MINUTE", 30),
        rasa_request_max_bytes=_positive_int("RASA_REQUEST_MAX_BYTES", 1024 * 1024),
        data_encryption_keys=_fernet_keys("DATA_ENCRYPTION_KEYS"),
        backup_encryption_keys=_fernet_keys("BACKUP_ENCRYPTION_KEY"),
    )
    if settings.is_production:
        _refuse_unsafe_production(settings)
    return settings


def _refuse_unsafe_production(settings: Settings) -> None:
    problems = []
    if settings.chat_jwt_secret == DEV_CHAT_SECRET or len(settings.chat_jwt_secret) < 32:
        problems.append("CHAT_JWT_SECRET must be set to a random value of 32+ characters")
    if settings.portal_secret_key == DEV_PORTAL_SECRET or len(settings.portal_secret_key) < 32:
        problems.append("PORTAL_SECRET_KEY must be set to a random value of 32+ characters")
    if not settings.data_encryption_keys:
        problems.append(
            "DATA_ENCRYPTION_KEYS must be set (make a key with `python -m bot keys generate` "
            "and keep it outside the database and its backups)"
        )
    if problems:
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems))


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _load()


def reset_settings() -> None:
    get_settings.cache_clear()
