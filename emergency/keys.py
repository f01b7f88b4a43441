"""``emergency keys ...``: a new data key, and rotating personal data onto it.

Personal columns (``info={"personal": True}``) hold AES-GCM ciphertext under keys derived
from ``EMERGENCY_DATA_KEY``, and keyed hashes (``info={"lookup_hash_of": column}``) find the
same person without decrypting. Rotating re-seals every personal value and recomputes every
keyed hash under the configured (new) key, in one transaction: all values move, or none.
"""

import base64
import os

import click
from cryptography.exceptions import InvalidTag
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from emergency.audit import service as audit
from emergency.db import unit_of_work
from emergency.domains import metadata
from emergency.errors import Invalid
from emergency.spatial import bulk
from registry.crypto import Cipher

BATCH = 2000


def sealed_columns():
    """{table: ([personal columns], {hash column: the personal column it hashes})}."""
    found = {}
    for table in metadata().sorted_tables:
        personal = [c.name for c in table.columns if c.info.get("personal")]
        hashes = {c.name: c.info["lookup_hash_of"] for c in table.columns
                  if c.info.get("lookup_hash_of")}
        if personal:
            found[table] = (personal, hashes)
    return found


def _open(token, old, new, where):
    """The clear text of ``token`` and whether it was sealed with the old key."""
    try:
        return old.decrypt(token), True
    except (InvalidTag, ValueError):
        pass
    try:
        return new.decrypt(token), False  # already under the new key (a rerun)
    except (InvalidTag, ValueError):
        raise Invalid(f"{where} opens with neither the old nor the new key",
                      {"old_key": ["not the key these values were sealed with"]}) from None


def rotate(session, old, new):
    """Re-seal every personal value and recompute every keyed hash under ``new``.

    ``old`` and ``new`` are :class:`registry.crypto.Cipher`; values already under ``new``
    are left as they are. Flushes only (the caller commits); returns {table: rows changed}.
    """
    changed = {}
    for table, (personal, hashes) in sealed_columns().items():
        key = table.c.id
        last, count = 0, 0
        while True:
            rows = session.execute(select(key, *[table.c[c] for c in personal])
                                   .where(key > last).order_by(key).limit(BATCH)).all()
            if not rows:
                break
            last = rows[-1].id
            updates = []
            for row in rows:
                values, moved = {"id": row.id}, False
                for name in personal:
                    token = getattr(row, name)
                    if not token:
                        continue
                    clear, was_old = _open(token, old, new, f"{table.name}.{name} of {row.id}")
                    values[name] = new.encrypt(clear) if was_old else token
                    moved = moved or was_old
                    for hashed, source in hashes.items():
                        if source == name:
                            values[hashed] = new.lookup_hash(clear)
                if moved:
                    updates.append(values)
            count += bulk.update_many(session, table, updates)
        changed[table.name] = count
    return changed


@click.group("keys")
def cli():
    """The personal-data key (EMERGENCY_DATA_KEY)."""


@cli.command("generate")
def generate_command():
    """Print a new random data key (urlsafe base64 of 32 bytes)."""
    click.echo(base64.urlsafe_b64encode(os.urandom(32)).decode())


@cli.command("rotate")
@click.option("--old-key", envvar="EMERGENCY_OLD_DATA_KEY", prompt="old EMERGENCY_DATA_KEY",
              hide_input=True, help="the key the data is sealed with now (or set "
              "EMERGENCY_OLD_DATA_KEY; asked for when neither is given)")
@with_appcontext
def rotate_command(old_key):
    """Re-seal all personal data under the configured EMERGENCY_DATA_KEY, in one transaction.

    Stop the app, set EMERGENCY_DATA_KEY to the new key, run this with the old one, start
    the app. Backups taken before still need the old key.
    """
    new_key = current_app.config["EMERGENCY_DATA_KEY"]
    if old_key == new_key:
        raise click.ClickException("the old key is the configured key: set "
                                   "EMERGENCY_DATA_KEY to the new key first")
    try:
        old, new = Cipher(old_key), Cipher(new_key)
    except (ValueError, TypeError) as exc:
        raise click.ClickException(f"old key: {exc}") from None
    try:
        with unit_of_work() as session:
            changed = rotate(session, old, new)
            audit.record(session, "rotate_key", "data_key", details={"rows": changed})
    except Invalid as exc:
        raise click.ClickException(exc.message) from None
    click.echo("re-sealed " + ", ".join(f"{n} {t}" for t, n in changed.items()))
