"""``emergency risk ...``: import layers and run assessments from the command line."""

import json

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from emergency.db import unit_of_work
from emergency.errors import cli_errors
from risk import layers, reports, service


def _layer_spec(text):
    """``ID`` or ``ID:WEIGHT`` → {layer_id, weight}."""
    ident, _sep, weight = text.partition(":")
    try:
        return {"layer_id": int(ident), "weight": float(weight or 1.0)}
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected ID or ID:WEIGHT") from None


@click.group("risk")
def cli():
    """Risk layers and grid risk assessments."""


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["hazard", "exposure", "vulnerability"]))
@click.option("--value-field")
@click.option("--likelihood-field")
@click.option("--consequence-field")
@click.option("--crs", help="wgs84, gcj02, bd09 or an EPSG code (overrides the file's)")
@click.option("--encoding", help="attribute encoding of a Shapefile without .cpg, e.g. GBK")
@click.option("--layer", help="layer name inside a GeoPackage")
@click.option("--repair", is_flag=True, help="repair invalid polygons instead of refusing")
@with_appcontext
def import_command(file, name, role, value_field, likelihood_field, consequence_field, crs,
                   encoding, layer, repair):
    """Import a hazard, exposure or vulnerability layer; all features or none."""
    bar = tqdm(desc="features", unit="feature", leave=False)

    def progress(n, total):
        bar.total = total
        bar.n = n
        bar.refresh()

    with cli_errors(), bar, unit_of_work() as session:
        record, repaired = layers.import_layer(
            session, file, name, role, value_field, crs=crs, encoding=encoding,
            likelihood_field=likelihood_field, consequence_field=consequence_field,
            repair=repair, layer=layer, actor="cli", progress=progress)
        line = (f"layer {record.id}: {record.feature_count} features"
                + (f", repaired {len(repaired)}" if repaired else ""))
    click.echo(line)


@cli.command("run")
@click.option("--area", "area_code", help="area code to assess (new run)")
@click.option("--cell-size", "cell_size_m", type=int, default=1000, show_default=True)
@click.option("--layer", "layer_specs", multiple=True, help="ID or ID:WEIGHT (repeatable)")
@click.option("--params", default="{}", help="model parameters as JSON")
@click.option("--id", "assessment_id", type=int,
              help="run an existing queued, running or failed assessment instead")
@with_appcontext
def run_command(area_code, cell_size_m, layer_specs, params, assessment_id):
    """Run an assessment in this process with a progress bar, then print its summary."""
    try:
        params = json.loads(params)
    except ValueError as exc:
        raise click.BadParameter(f"--params is not JSON: {exc}") from None
    bar = tqdm(total=100, desc="assessment", unit="%", leave=False)

    def progress(fraction):
        bar.n = round(100 * fraction)
        bar.refresh()

    with cli_errors(), bar, unit_of_work() as session:
        if assessment_id is None:
            if not area_code or not layer_specs:
                raise click.UsageError("give --area and at least one --layer, or --id")
            run = service.create_assessment(session, area_code, cell_size_m,
                                            [_layer_spec(s) for s in layer_specs], params,
                                            actor="cli")
            assessment_id = run.id
        service.run_assessment(session, assessment_id, progress)
        session.flush()
        summary = reports.summary(session, assessment_id, gap_limit=0)
    levels = ", ".join(f"{v['name']} {v['count']}" for v in summary["levels"].values())
    click.echo(f"assessment {assessment_id}: {summary['cells']} cells ({levels}); "
               f"gaps {summary['gaps']['count']}")
