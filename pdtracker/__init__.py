"""pdtracker: teacher professional-development tracker and scheduler."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Flask is imported by create_app: pure modules load no Flask.
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → models → blueprints → CLI → errors."""
    from flask import Flask

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    _configure(app, config)
    _trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    from pdtracker.errors import register_error_handlers
    from pdtracker.logs import configure_logging

    register_error_handlers(app)
    configure_logging(bool(app.config.get("LOG_JSON")))
    return app


def _configure(app: Flask, config: Mapping[str, Any] | None) -> None:
    from pdtracker.config import Config, database_url_from_env, derive_settings

    app.config.from_object(Config)
    app.config.from_prefixed_env("PDTRACKER")
    if url := database_url_from_env():
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if config:
        app.config.update(config)
    derive_settings(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = Path(app.instance_path) / "pdtracker.sqlite"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(Path(app.instance_path) / "uploads")
    if not app.config.get("SECRET_KEY"):
        from pdtracker.secrets import instance_secret_key

        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    _template_cache(app)


def _template_cache(app: Flask) -> None:
    """Keep compiled templates in a directory (see Config.TEMPLATE_CACHE_DIR).

    Jinja keys each entry by the template's name and checks it against the source's
    checksum, so an edited template is compiled afresh; it writes through a temporary
    file and a rename, so workers sharing the directory never read a partial entry.
    """
    from jinja2 import FileSystemBytecodeCache

    directory = app.config.get("TEMPLATE_CACHE_DIR")
    if directory == "":
        return
    path = Path(directory or Path(app.instance_path) / "jinja-cache")
    path.mkdir(parents=True, exist_ok=True)
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(path))


def _trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto/-Host only from the configured proxy hops.

    Behind nginx every request comes from 127.0.0.1; the client's real address
    (for login throttling) is the one the proxy appended. Without a trusted proxy
    those headers are whatever the client wrote, so they are ignored.
    """
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def _init_extensions(app: Flask) -> None:
    from pdtracker import models  # noqa: F401  (register every table)
    from pdtracker.auth.session import init_login
    from pdtracker.changes import install as install_change_listener
    from pdtracker.database import init_database
    from pdtracker.extensions import babel, csrf, db, migrate
    from pdtracker.i18n import init_formats, select_locale, select_timezone
    from pdtracker.navigation import init_navigation
    from pdtracker.security import init_security

    init_database(app)
    install_change_listener()  # feed and cache versions, whatever blueprints exist
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    init_formats(app)  # after Babel: replaces its dateformat filter
    init_login(app)
    init_security(app)
    init_navigation(app)


def _register_blueprints(app: Flask) -> None:
    from pdtracker.activities.views import bp as activities_bp
    from pdtracker.admin import rulesets  # noqa: F401  (its pages are on admin's blueprint)
    from pdtracker.admin.views import bp as admin_bp
    from pdtracker.association.views import bp as association_bp
    from pdtracker.auth.views import bp as auth_bp
    from pdtracker.calendar.views import bp as calendar_bp
    from pdtracker.checkin.views import bp as checkin_bp
    from pdtracker.events import manage  # noqa: F401  (its pages are on events' blueprint)
    from pdtracker.events.views import bp as events_bp
    from pdtracker.health import bp as health_bp
    from pdtracker.main.views import bp as main_bp
    from pdtracker.notifications.views import bp as notifications_bp
    from pdtracker.onboarding.views import bp as onboarding_bp
    from pdtracker.papers.verify import bp as verify_bp
    from pdtracker.papers.views import bp as papers_bp
    from pdtracker.placements import (  # noqa: F401  (their pages are on placements' bp)
        lifecycle_views,
        market_views,
        mentor_views,
    )
    from pdtracker.placements.views import bp as placements_bp
    from pdtracker.progress.views import bp as progress_bp
    from pdtracker.recognition import views_admin  # noqa: F401  (on recognition's bp)
    from pdtracker.recognition.views import bp as recognition_bp
    from pdtracker.routing import init_routing

    init_routing(app)  # before any route is added: bounds every <int:...> id
    blueprints = (
        main_bp, auth_bp, activities_bp, admin_bp, placements_bp, events_bp,
        calendar_bp, health_bp, notifications_bp, progress_bp, association_bp,
        onboarding_bp, recognition_bp, papers_bp, verify_bp, checkin_bp,
    )  # fmt: skip
    for bp in blueprints:
        app.register_blueprint(bp)


def _register_cli(app: Flask) -> None:
    from pdtracker.association.cli import standings_cli
    from pdtracker.cli import backup_cli, seed_demo_command
    from pdtracker.events.cli import events_cli
    from pdtracker.onboarding.cli import import_cli
    from pdtracker.papers.cli import recognition_cli
    from pdtracker.progress.cli import progress_cli
    from pdtracker.scheduler import scheduler_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(backup_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(events_cli)
    app.cli.add_command(progress_cli)
    app.cli.add_command(standings_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(recognition_cli)
