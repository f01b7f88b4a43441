"""``emergency registry ...``: upkeep of the registry from the command line (or cron)."""

import click
from flask.cli import with_appcontext

from emergency.db import unit_of_work
from registry import service


@click.group("registry")
def cli():
    """Registry of social rescue forces."""


@cli.command("refresh-readiness")
@click.option("--all", "everything", is_flag=True,
              help="refresh every team, not only those whose stored span has lapsed")
@with_appcontext
def refresh_readiness_command(everything):
    """Re-centre the teams' stored readiness (insured members); run it daily from cron."""
    with unit_of_work() as session:
        count = service.refresh_readiness(session, everything=everything)
    click.echo(f"refreshed the readiness of {count} team(s)")
