"""``emergency warnings ...``: expiry of published warnings (run it from cron)."""

import click
from flask.cli import with_appcontext

from alerts import service
from emergency.db import unit_of_work


@click.group("warnings")
def cli():
    """Warnings (预警): expiry of published warnings past their end."""


@cli.command("expire")
@with_appcontext
def expire_command():
    """Mark every published warning whose expiry has passed as expired."""
    with unit_of_work() as session:
        count = service.expire_due(session)
    click.echo(f"expired {count} warning(s)")
