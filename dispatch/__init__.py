"""dispatch: resident requests from community WeChat accounts, as tickets with SLA clocks."""
from pathlib import Path

from flask import Flask

from config import load_config


def create_app(config=None):
    """Build the app: configuration, extensions, blueprints and commands, nothing else."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object(config or load_config())
    from dispatch import urls
    urls.init_app(app)
    Path(app.instance_path).mkdir(exist_ok=True)

    from dispatch import cli, errors, extensions, health, templating
    from dispatch.intake import calls, simulator, views as intake_views, wechat_views
    from dispatch.wechat import stub
    from dispatch.org import account_views, auth
    from dispatch.api import media, openapi, org as org_api, tickets as tickets_api
    from dispatch.console import tickets as ticket_views, work_order
    from dispatch.tickets import refusals
    from dispatch.resident import views as resident_views
    from dispatch.resident import family_views as _family_views  # noqa: F401  (routes on resident_views.bp)
    from dispatch.intake import models as _intake_models  # noqa: F401  (tables for migrations)
    from dispatch.wechat import models as _wechat_models  # noqa: F401
    from dispatch.sla import models as _sla_models, views as sla_views  # noqa: F401
    from dispatch import scheduler as _scheduler  # noqa: F401  (the lease table)
    from dispatch.teams import models as _teams_models  # noqa: F401
    from dispatch.notify import models as _notify_models, views as notify_views  # noqa: F401
    from dispatch.monitor import views as monitor_views
    from dispatch.open311 import views as open311_views
    from dispatch.teams import bind_views, desk, desk_login
    from dispatch.teams import admin as team_admin
    from dispatch.teams import views as team_views
    from dispatch.teams import duty_views

    _wire_consequences()
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(Path(__file__).parent.parent / "migrations"))
    extensions.csrf.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    refusals.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(tickets_api.bp)
    app.register_blueprint(org_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(ticket_views.bp)
    app.register_blueprint(work_order.bp)
    app.register_blueprint(intake_views.bp)
    app.register_blueprint(wechat_views.bp)
    app.register_blueprint(calls.bp)
    app.register_blueprint(resident_views.bp)
    app.register_blueprint(sla_views.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(desk_login.bp)
    app.register_blueprint(bind_views.bp)
    app.register_blueprint(team_admin.bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(team_views.bp)
    app.register_blueprint(duty_views.bp)
    app.register_blueprint(notify_views.bp)
    app.register_blueprint(monitor_views.bp)
    app.register_blueprint(open311_views.bp)
    # The demo's stand-in for WeChat and its simulator page: they answer 404 unless WECHAT_STUB is on.
    app.register_blueprint(stub.bp)
    app.register_blueprint(simulator.bp)
    _warm_up(app)
    return app


def _warm_up(app):
    """When this process is to serve, load now what the first request would otherwise wait for."""
    if app.config.get("PRELOAD_CLASSIFIER") and _serving():
        from dispatch.tickets import classifier
        classifier.preload()


def _serving():
    """False under a flask command other than `flask run` (db upgrade, seed-demo, scheduler...), else True."""
    import click
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.info_name == "run"


def _wire_consequences():
    """Import the packages whose steps fill the consequences table; refuse to start if a step has no owner."""
    from dispatch.tickets import consequences, effects, news, tasks  # noqa: F401  (their steps register)
    from dispatch.sla import services as _sla_steps  # noqa: F401
    from dispatch.teams import guard as _team_steps  # noqa: F401
    from dispatch.teams import duty as _duty_steps  # noqa: F401
    missing = consequences.missing_steps()
    if missing:
        raise RuntimeError(f"steps named in tickets/consequences.py that no package registers: {missing}")
