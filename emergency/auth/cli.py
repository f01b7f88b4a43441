"""``emergency users ...`` and ``emergency tokens ...``: accounts and API tokens."""

import click
from flask import current_app
from flask.cli import with_appcontext

from emergency.auth import service
from emergency.auth.roles import ROLES
from emergency.db import unit_of_work
from emergency.errors import cli_errors


@click.group()
def users():
    """User accounts."""


@users.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password", required=True)
@click.option("--grid", "grids", multiple=True, help="grid code (repeatable), for grid_staff")
@click.option("--org", "org_id", type=int, help="organisation id, for org_admin")
@click.option("--area", "area_code", help="district code scoping bureau staff")
@click.option("--display-name", default="")
@with_appcontext
def users_create(name, role, password, grids, org_id, area_code, display_name):
    """Create a user."""
    with cli_errors(), unit_of_work() as session:
        service.create_user(session, name, role, password, grids, org_id, area_code,
                            display_name)
    click.echo(f"created user {name} ({role})", err=True)


@users.command("update")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES))
@click.option("--active/--inactive", default=None, help="reactivate or deactivate")
@click.option("--password", help="a new password (at least 8 characters)")
@with_appcontext
def users_update(name, role, active, password):
    """Change a user's role, state or password; deactivation, a new role or a new password
    end the user's sessions and tokens at once (the last active admin stays)."""
    changes = {k: v for k, v in (("role", role), ("active", active), ("password", password))
               if v is not None}
    with cli_errors(), unit_of_work() as session:
        user = service.get_user(session, name)
        service.update_user(session, user.id, None, **changes)
    click.echo(f"updated user {name}", err=True)


@click.group()
def tokens():
    """API tokens."""


@tokens.command("create")
@click.argument("name")
@click.option("--days", type=int, default=None, help="lifetime (default TOKEN_DEFAULT_DAYS)")
@with_appcontext
def tokens_create(name, days):
    """Print a new API token for the user on stdout, and nothing else."""
    with cli_errors(), unit_of_work() as session:
        token = service.create_token(session, name,
                                     days or current_app.config["TOKEN_DEFAULT_DAYS"])
    click.echo(token)


@tokens.command("revoke")
@click.argument("name")
@with_appcontext
def tokens_revoke(name):
    """Revoke every token of a user."""
    with cli_errors(), unit_of_work() as session:
        count = service.revoke_tokens(session, name)
    click.echo(f"revoked {count} token(s)", err=True)
