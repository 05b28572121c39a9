"""The portal's app factory."""
from __future__ import annotations

import datetime as dt
import os
from typing import Any, Mapping, Optional

from flask import Flask, g, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.config import get_settings
from bot.portal import filters
from bot.portal.access import home_url, load_current_user
from bot.portal.headers import add_security_headers
from bot.portal.ratelimit import LoginThrottle

csrf = CSRFProtect()

ERROR_TEXTS = {
    400: ("Er ging iets mis met het formulier", "Laad de pagina opnieuw en probeer het nog een keer."),
    403: ("Geen toegang", "Deze pagina is niet voor jouw account."),
    404: ("Niet gevonden", "Deze pagina bestaat niet, of je mag hem niet zien."),
    405: ("Dat kan zo niet", "Deze pagina werkt niet op deze manier. Ga terug en gebruik de knop op de pagina."),
    413: ("Te groot", "Wat je stuurt is te groot. Een bestand mag maximaal {mb} MB zijn. Maak het kleiner of verdeel het over meer bestanden."),
    429: ("Te veel pogingen", "Je hebt het te vaak geprobeerd. Wacht 15 minuten en probeer het dan opnieuw."),
    500: ("Er ging iets mis", "Er ging iets mis bij ons. Probeer het later nog een keer."),
}


def _defaults() -> Mapping[str, Any]:
    settings = get_settings()
    return {
        "SECRET_KEY": settings.portal_secret_key,
        "SESSION_COOKIE_NAME": "stagecoach_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.is_production,
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=8),
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,  # as long as a login: a long-open form still works
        # Request size limits (413 with a Dutch page): the whole body, e.g. the users CSV
        # (2 MB is about 20,000 rows); one form field in memory; the number of form parts.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "MAX_FORM_PARTS": 1000,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_MAX_FAILURES_IP": 30,
        "LOGIN_WINDOW_SECONDS": 15 * 60,
        # number of reverse proxies in front of the portal (X-Forwarded-For, -Proto)
        "PROXY_COUNT": int(os.environ.get("PORTAL_PROXY_COUNT") or 0),
    }


def _register_errors(app: Flask) -> None:
    def render_error(code: int, detail: Optional[str] = None):
        title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
        if code == 413:
            text = text.format(mb=f"{app.config['MAX_CONTENT_LENGTH'] / (1024 * 1024):.2g}")
        return render_template("errors/error.html", code=code, title=title, text=detail or text), code

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(400, "Het formulier is verlopen of niet compleet. Laad de pagina opnieuw en probeer het nog een keer.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in ERROR_TEXTS:
            return render_error(error.code)
        return error


def create_app(test_config: Optional[Mapping[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.update(_defaults())
    if test_config:
        app.config.update(test_config)
    app.jinja_env.autoescape = True  # every template, whatever its file name
    app.extensions["login_throttle"] = LoginThrottle(
        app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_MAX_FAILURES_IP"], app.config["LOGIN_WINDOW_SECONDS"]
    )
    csrf.init_app(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    filters.register(app)
    app.before_request(load_current_user)
    app.after_request(add_security_headers)
    _register_errors(app)

    from bot.portal.views import auth, coordinator, student, supervisor

    for module in (auth, student, supervisor, coordinator):
        app.register_blueprint(module.bp)

    @app.get("/health")
    def health():
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @app.get("/")
    def index():
        user = g.get("user")
        return redirect(home_url(user) if user else url_for("auth.login"))

    @app.context_processor
    def inject_user():
        return {"user": g.get("user")}
    return app
