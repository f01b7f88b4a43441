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


def import_folder(source, target):
    """Copy every file of ``source`` (a FolderStore) into ``target``; (copied, present)."""
    copied = present = 0
    for key in source.keys():
        obj = source.open(key)
        with open(source.root / key, "rb") as stream:
            if target.put(key, stream, obj.content_type):
                copied += 1
            else:
                present += 1
    return copied, present


@files.command("import")
@click.option("--folder", type=click.Path(file_okay=False),
              help="folder to read (default: UPLOAD_FOLDER)")
@with_appcontext
def import_(folder):
    """Move the files that older versions kept on this host's disk into the store (run it
    once on every host that has an upload folder; files already in the store are skipped)."""
    folder = folder or current_app.config["UPLOAD_FOLDER"]
    source = FolderStore(folder)
    with cli_errors(), unit_of_work() as session:
        target = app_store(session)
        if target.kind == "folder" and source.root.resolve() == target.root.resolve():
            click.echo("FILE_STORE is this folder: nothing to move", err=True)
            return
        copied, present = import_folder(source, target)
    click.echo(f"{copied} files copied into the {target.kind} store, {present} were there "
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
