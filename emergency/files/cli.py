"""``emergency files ...``: the shared file store from the command line."""

import click
from flask import current_app
from flask.cli import with_appcontext

from emergency.db import unit_of_work
from emergency.errors import cli_errors
from emergency.files import app_store
from emergency.files.store import FolderStore


@click.group()
def files():
    """The file store every app host shares (photos and other kept uploads)."""


BATCH = 100


def import_folder(source, session, store):
    """Copy every file of ``source`` (a FolderStore) into ``store`` bound to ``session``,
    committing every BATCH files (a folder of many gigabytes is not one transaction);
    returns (copied, present)."""
    copied = present = 0
    target = store.bind(session)
    for key in source.keys():
        with open(source.root / key, "rb") as stream:
            if target.put(key, stream):
                copied += 1
                if copied % BATCH == 0:
                    session.commit()
            else:
                present += 1
    return copied, present


@files.command("import")
@click.option("--folder", type=click.Path(file_okay=False),
              help="folder to read (default: UPLOAD_FOLDER)")
@with_appcontext
def import_(folder):
    """Move the files that older versions kept on this host's disk into the store (run it
    once on every host that has an upload folder; files already in the store are skipped,
    so it can be run again after an interruption)."""
    folder = folder or current_app.config["UPLOAD_FOLDER"]
    source = FolderStore(folder)
    store = app_store()
    if store.kind == "folder" and source.root.resolve() == store.root.resolve():
        click.echo("FILE_STORE is this folder: nothing to move", err=True)
        return
    with cli_errors(), unit_of_work() as session:
        copied, present = import_folder(source, session, store)
    click.echo(f"{copied} files copied into the {store.kind} store, {present} were there "
               f"already (from {folder}; the folder is left as it was)", err=True)


@files.command("stats")
@with_appcontext
def stats():
    """How many files the store holds and their total size."""
    with cli_errors(), unit_of_work() as session:
        store = app_store(session)
        count = size = 0
        for key in store.keys():
            count += 1
            size += store.open(key).size
    click.echo(f"{store.kind} store: {count} files, {size} bytes")
