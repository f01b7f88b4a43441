"""``emergency areas import`` and ``emergency grids import``: areas and grids from files."""

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from emergency.db import unit_of_work
from emergency.errors import cli_errors
from emergency.geo import importer
from emergency.geo.models import AREA_LEVELS


def _progress(label):
    """A tqdm progress callback (n, total) for long commands."""
    bar = {}

    def update(n, total):
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=label, unit="feature", leave=False)
        bar["bar"].n = n
        bar["bar"].refresh()
        if n >= total:
            bar["bar"].close()

    return update


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
    with cli_errors(), unit_of_work() as session:
        count = function(session, *args, progress=_progress(label))
    click.echo(f"imported {count} {label}", err=True)


@click.group()
def areas():
    """Administrative areas."""


@areas.command("import")
@_file_options
@click.option("--level", required=True, type=click.Choice(AREA_LEVELS))
@click.option("--parent-field", default=None, help="field holding the parent's code")
@click.option("--parent-code", default=None, help="one parent code for every feature")
@click.option("--name-en-field", default=None)
@with_appcontext
def areas_import(file, layer, crs, encoding, code_field, name_field, level, parent_field,
                 parent_code, name_en_field):
    """Import areas from GeoJSON, GeoPackage or zipped Shapefile; all or nothing."""
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
    _run_import("grids", importer.import_grids, file, code_field, name_field, area_field,
                layer, crs, encoding)
