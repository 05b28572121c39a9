"""All settings, read from the environment in one place.

Nothing is read at import time: call `get_settings()` (cached) and
`reset_settings()` in tests after changing the environment.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

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
        chat_token_minutes=int(env("CHAT_TOKEN_MINUTES") or 30),
        retention_reflection_days=_positive_days("RETENTION_REFLECTION_DAYS", 400),
        retention_chat_days=_positive_days("RETENTION_CHAT_DAYS", 30),
        retention_analytics_days=_positive_days("RETENTION_ANALYTICS_DAYS", 365),
        retention_safety_days=_positive_days("RETENTION_SAFETY_DAYS", 730),
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
    if problems:
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems))


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return _load()


def reset_settings() -> None:
    get_settings.cache_clear()
