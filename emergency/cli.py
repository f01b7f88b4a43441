"""The ``emergency`` command line (a Flask CLI group built on create_app)."""

import click
from flask.cli import FlaskGroup, with_appcontext

from emergency import create_app, keys
from emergency.db import unit_of_work
from emergency.errors import DomainError


def _fail(exc):
    """Turn a domain error into a clean CLI error."""
    details = "".join(f"\n  {k}: {v}" for k, v in getattr(exc, "details", {}).items())
    raise click.ClickException(f"{exc.message}{details}")


def _progress(label):
    """A tqdm progress callback (n, total) for long commands."""
    from tqdm import tqdm

    bar = {}

    def update(n, total):
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=label, unit="feature", leave=False)
        bar["bar"].n = n
        bar["bar"].refresh()
        if n >= total:
            bar["bar"].close()

    return update


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main():
    """Emergency management platform."""


def register(app):
    """Add every command group to the app's CLI (``emergency`` and ``flask`` both see them)."""
    from emergency.domains import DOMAINS

    domain_commands = [command for domain in DOMAINS for command in domain.commands]
    for command in (db, users, tokens, areas, grids, demo, serve, config_group, backup, restore,
                    keys.cli, *domain_commands):
        app.cli.add_command(command)


@click.group()
def db():
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def db_upgrade(revision):
    """Apply all migrations (creates the SpatiaLite file if needed)."""
    from emergency.migrate import upgrade

    upgrade(revision)
    click.echo("database upgraded", err=True)


@click.group()
def users():
    """User accounts."""


@users.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(
    ["admin", "planner", "dispatcher", "grid_staff", "org_admin", "auditor"]))
@click.option("--password", required=True)
@click.option("--grid", "grids", multiple=True, help="grid code (repeatable), for grid_staff")
@click.option("--org", "org_id", type=int, help="organisation id, for org_admin")
@click.option("--area", "area_code", help="district code scoping bureau staff")
@click.option("--display-name", default="")
@with_appcontext
def users_create(name, role, password, grids, org_id, area_code, display_name):
    """Create a user."""
    from emergency.auth import service

    try:
        with unit_of_work() as session:
            service.create_user(session, name, role, password, grids, org_id, area_code,
                                display_name)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created user {name} ({role})", err=True)


@users.command("update")
@click.argument("name")
@click.option("--role", type=click.Choice(
    ["admin", "planner", "dispatcher", "grid_staff", "org_admin", "auditor"]))
@click.option("--active/--inactive", default=None, help="reactivate or deactivate")
@click.option("--password", help="a new password (at least 8 characters)")
@with_appcontext
def users_update(name, role, active, password):
    """Change a user's role, state or password; deactivation, a new role or a new password
    end the user's sessions and tokens at once (the last active admin stays)."""
    from emergency.auth import service

    changes = {k: v for k, v in (("role", role), ("active", active), ("password", password))
               if v is not None}
    try:
        with unit_of_work() as session:
            user = service.get_user(session, name)
            service.update_user(session, user.id, None, **changes)
    except DomainError as exc:
        _fail(exc)
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
    from flask import current_app

    from emergency.auth import service

    try:
        with unit_of_work() as session:
            token = service.create_token(session, name,
                                         days or current_app.config["TOKEN_DEFAULT_DAYS"])
    except DomainError as exc:
        _fail(exc)
    click.echo(token)


@tokens.command("revoke")
@click.argument("name")
@with_appcontext
def tokens_revoke(name):
    """Revoke every token of a user."""
    from emergency.auth import service

    try:
        with unit_of_work() as session:
            count = service.revoke_tokens(session, name)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"revoked {count} token(s)", err=True)


def _file_options(command):
    """Options shared by the file import commands."""
    for option in reversed([
        click.argument("file", type=click.Path(exists=True, dir_okay=False)),
        click.option("--layer", help="layer name inside a GeoPackage"),
        click.option("--crs", help="CRS when the file has none or a wrong one: an EPSG code, "
                     "wgs84, gcj02 or bd09"),
        click.option("--encoding", help="attribute encoding, e.g. GBK (Shapefile without .cpg)"),
        click.option("--code-field", default="code", show_default=True),
        click.option("--name-field", default="name", show_default=True),
    ]):
        command = option(command)
    return command


def _run_import(label, function, *args):
    """Run an import in one transaction: all features or none."""
    try:
        with unit_of_work() as session:
            count = function(session, *args, progress=_progress(label))
    except DomainError as exc:
        _fail(exc)
    click.echo(f"imported {count} {label}", err=True)


@click.group()
def areas():
    """Administrative areas."""


@areas.command("import")
@_file_options
@click.option("--level", required=True,
              type=click.Choice(["province", "city", "district", "street", "community"]))
@click.option("--parent-field", default=None, help="field holding the parent's code")
@click.option("--parent-code", default=None, help="one parent code for every feature")
@click.option("--name-en-field", default=None)
@with_appcontext
def areas_import(file, layer, crs, encoding, code_field, name_field, level, parent_field,
                 parent_code, name_en_field):
    """Import areas from GeoJSON, GeoPackage or zipped Shapefile; all or nothing."""
    from emergency.geo import importer

    _run_import("areas", importer.import_areas, file, level, code_field, name_field,
                parent_field, parent_code, name_en_field, layer, crs, encoding)


@click.group()
def grids():
    """Management grids."""


@grids.command("import")
@_file_options
@click.option("--area-field", default="area_code", show_default=True)
@with_appcontext
def grids_import(file, layer, crs, encoding, code_field, name_field, area_field):
    """Import management grids; all or nothing."""
    from emergency.geo import importer

    _run_import("grids", importer.import_grids, file, code_field, name_field, area_field,
                layer, crs, encoding)


@click.group()
def demo():
    """Demonstration data."""


@demo.command("load")
@with_appcontext
def demo_load():
    """Load the Chongqing demonstration data (idempotent)."""
    from emergency.demo import load

    for line in load():
        click.echo(line)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int,
              help="threads per gthread worker (sync workers have one)")
@click.option("--worker-class", "worker_class", type=click.Choice(["gthread", "sync"]),
              default="gthread", show_default=True,
              help="gthread keeps connections alive, each pinned to its worker; sync serves "
                   "one request per connection in arrival order (behind a proxy such as "
                   "nginx, see docs/operations.md)")
def serve(host, port, workers, threads, worker_class):
    """Serve the app with gunicorn (a production WSGI server)."""
    from emergency.server import run

    if worker_class == "sync" and threads != 1:
        threads = 1  # gunicorn would otherwise turn a threaded sync worker into gthread
    run(host, port, workers, threads, worker_class)


@click.group("config")
def config_group():
    """Configuration."""


@config_group.command("show")
@with_appcontext
def config_show():
    """List every configuration key, its value (secrets hidden) and description."""
    from flask import current_app

    from emergency.config import SETTINGS

    for s in SETTINGS:
        value = current_app.config.get(s.name)
        shown = "(set)" if s.secret and value else value
        click.echo(f"{s.name} = {shown}\n    {s.description}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def backup(file):
    """Write a consistent backup of every table and the uploads to FILE (safe while serving)."""
    from flask import current_app

    from emergency import backup as service
    from emergency.db import engine

    manifest = service.backup(engine(), file, current_app.config.get("UPLOAD_FOLDER"))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"backed up {rows} rows in {len(manifest['tables'])} tables and "
               f"{len(manifest['uploads'])} files to {file}", err=True)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore(file):
    """Restore FILE into this freshly migrated, empty database (either backend)."""
    from flask import current_app

    from emergency import backup as service
    from emergency.db import engine

    try:
        manifest = service.restore(engine(), file, current_app.config.get("UPLOAD_FOLDER"))
    except DomainError as exc:
        _fail(exc)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"restored {rows} rows and {len(manifest['uploads'])} files from {file}",
               err=True)
