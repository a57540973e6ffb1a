"""The flask commands' registry: each package defines its own commands; this only adds them to the app."""


def init_app(app):
    """Register every package's commands (imported here, so nothing is loaded before the app is built)."""
    from dispatch.demo.cli import seed_demo
    from dispatch.monitor.cli import monitor
    from dispatch.notify.cli import notify
    from dispatch.open311.cli import open311
    from dispatch.org.cli import tokens, users
    from dispatch.scheduler import scheduler
    from dispatch.sla.cli import sla
    from dispatch.teams.cli import categories
    from dispatch.wechat.cli import wechat
    for command in (users, tokens, categories, seed_demo, wechat, scheduler, sla, notify, monitor, open311):
        app.cli.add_command(command)
