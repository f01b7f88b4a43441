"""``emergency worker``: run background jobs (risk runs, scheduled escalation, expiry...)."""

import asyncio
import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from emergency.jobs.worker import Worker


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="jobs run at once (default: JOB_CONCURRENCY)")
@with_appcontext
def worker(concurrency):
    """Run background jobs from the queue until SIGINT or SIGTERM; any number of workers
    on any number of hosts may share one PostGIS database (one per SpatiaLite file)."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    runner = Worker(app, concurrency)
    click.echo(f"worker: concurrency {runner.concurrency}, lease "
               f"{app.config['JOB_LEASE_SECONDS']} s", err=True)
    asyncio.run(runner.run())
    click.echo("worker stopped", err=True)
