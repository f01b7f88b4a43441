"""``emergency hazards ...``: escalation of overdue hazard reports (run it from cron)."""

import click
from flask.cli import with_appcontext

from emergency.db import unit_of_work
from hazards import service


@click.group("hazards")
def cli():
    """Hazard reports: escalation (督办) of overdue reports."""


@cli.command("escalate")
@with_appcontext
def escalate_command():
    """Escalate (督办) every hazard report past its deadline to its district."""
    with unit_of_work() as session:
        count = service.escalate_overdue(session)
    click.echo(f"escalated {count} overdue hazard report(s)")
