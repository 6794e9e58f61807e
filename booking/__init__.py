"""Outreach Desk: on-site My Number card application desks for fire departments."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from flask_babel import gettext, lazy_gettext
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_module
from .extensions import babel, csrf, db, limiter, login_manager, migrate

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (tests pass theirs here)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from .converters import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter
    app.config.update(config_module.DEFAULTS)
    if config and "SECRET_KEY" in config and "SQLALCHEMY_DATABASE_URI" in config:
        app.config.update(config)
    else:
        app.config.update(config_module.from_environment(Path(app.instance_path)))
        # The optional instance/config.py (a bare name would be read from the package: booking/config.py).
        app.config.from_pyfile(str(Path(app.instance_path) / "config.py"), silent=True)
        app.config.update(config or {})
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        config_module.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]),
    )

    configure_extensions(app)
    register_blueprints(app)
    from . import cli, web

    web.configure(app)
    cli.register(app)
    web.commit_per_request(app)
    from . import worker

    worker.init_app(app)
    return app


#: Flask-Login's message, named here so that the translations carry it.
LOGIN_MESSAGE = "Please sign in to open this page."
_EXTRACTED = lazy_gettext("Please sign in to open this page.")


def configure_extensions(app: Flask) -> None:
    from .web import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(ROOT / "translations"),
    )
    login_manager.init_app(app)
    login_manager.login_view = "office.login"
    # Flask-Login flashes its own English sentence; passed through gettext, it follows the page's
    # language (issue 16: it showed in English on the Japanese sign-in page).
    login_manager.login_message = LOGIN_MESSAGE
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext
    limiter.init_app(app)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        # Werkzeug's documented way to wrap the WSGI app; mypy sees a method assigned over.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .chiefs import bp as chiefs_bp
    from .desk import bp as desk_bp
    from .office import bp as office_bp
    from .public import bp as public_bp
    from .reports import bp as reports_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(office_bp, url_prefix="/office")
    app.register_blueprint(desk_bp, url_prefix="/desk")
    app.register_blueprint(chiefs_bp, url_prefix="/chiefs")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: DBAPIConnection, connection_record: ConnectionPoolEntry) -> None:
    """WAL lets readers go on while one writer writes; foreign keys are off by default in SQLite."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()
