"""Security headers on every response."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, request

from bot.config import get_settings


def chat_origins(rasa_url: str) -> list:
    """The Rasa server's origin over http(s) and over ws(s), for the chat's socket."""
    parts = urlsplit(rasa_url)
    if not parts.scheme or not parts.netloc:
        return []
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{parts.netloc}", f"{socket_scheme}://{parts.netloc}"]


def content_security_policy(rasa_url: str) -> str:
    connect = " ".join(["'self'", *chat_origins(rasa_url)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def add_security_headers(response: Response) -> Response:
    settings = get_settings()
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(settings.rasa_url)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if settings.is_production:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint not in ("static", "health"):
        # personal data: never kept in a shared computer's browser cache
        headers["Cache-Control"] = "no-store"
    return response
