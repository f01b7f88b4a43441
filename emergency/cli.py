"""The ``emergency`` command line (a Flask CLI group built on create_app): the app-level
commands here, each domain's groups from its own ``cli.py`` (listed in emergency.domains)."""

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from emergency import backup as backups
from emergency import create_app, keys
from emergency.config import SETTINGS
from emergency.db import engine
from emergency.demo import load as load_demo
from emergency.domains import DOMAINS
from emergency.errors import cli_errors
from emergency.files import app_store
from emergency.migrate import upgrade
from emergency.server import run as run_server


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main():
    """Emergency management platform."""


def register(app):
    """Add every command group to the app's CLI (``emergency`` and ``flask`` both see them)."""
    domain_commands = [command for domain in DOMAINS for command in domain.commands]
    for command in (db, demo, serve, config_group, backup, restore, keys.cli, *domain_commands):
        app.cli.add_command(command)


@click.group()
def db():
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def db_upgrade(revision):
    """Apply all migrations (creates the SpatiaLite file if needed)."""
    upgrade(revision)
    click.echo("database upgraded", err=True)


@click.group()
def demo():
    """Demonstration data."""


@demo.command("load")
@with_appcontext
def demo_load():
    """Load the Chongqing demonstration data (idempotent)."""
    for line in load_demo():
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
    if worker_class == "sync" and threads != 1:
        threads = 1  # gunicorn would otherwise turn a threaded sync worker into gthread
    run_server(host, port, workers, threads, worker_class)


@click.group("config")
def config_group():
    """Configuration."""


@config_group.command("show")
@with_appcontext
def config_show():
    """List every configuration key, its value (secrets hidden) and description."""
    for s in SETTINGS:
        value = current_app.config.get(s.name)
        shown = "(set)" if s.secret and value else value
        click.echo(f"{s.name} = {shown}\n    {s.description}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
def backup(file):
    """Write a consistent backup of every table and the uploads to FILE (safe while serving)."""
    manifest = backups.backup(engine(), file, app_store())
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"backed up {rows} rows in {len(manifest['tables'])} tables and "
               f"{len(manifest['uploads'])} files to {file}", err=True)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore(file):
    """Restore FILE into this freshly migrated, empty database (either backend)."""
    with cli_errors():
        manifest = backups.restore(engine(), file, app_store())
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"restored {rows} rows and {len(manifest['uploads'])} files from {file}",
               err=True)
