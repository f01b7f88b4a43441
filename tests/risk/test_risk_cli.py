"""``emergency risk import`` and ``emergency risk run``."""

import json

from sqlalchemy import select

from risk.models import RiskAssessment, RiskLayer
from tests.risk.risk_factories import collection, make_area, rect


def test_import_and_run_from_the_command_line(runner, db, tmp_path):
    make_area(db, size=(3000, 2000))
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(collection([(rect(0, 0, 1500, 2000), {"depth": 2.5})])))
    result = runner.invoke(args=["risk", "import", str(path), "--name", "洪水", "--role",
                                 "hazard", "--value-field", "depth"])
    assert result.exit_code == 0, result.output
    layer = db.scalar(select(RiskLayer).where(RiskLayer.name == "洪水"))
    assert layer.feature_count == 1
    result = runner.invoke(args=["risk", "run", "--area", "880000", "--cell-size", "500",
                                 "--layer", f"{layer.id}:2", "--params",
                                 '{"thresholds": [0.3, 0.2, 0.1]}'])
    assert result.exit_code == 0, result.output
    run = db.scalar(select(RiskAssessment).order_by(RiskAssessment.id.desc()))
    assert run.status == "done" and run.cell_count == 24
    assert f"assessment {run.id}: 24 cells" in result.output
    assert run.layers[0]["weight"] == 2.0


def test_run_refuses_bad_input(runner, db):
    result = runner.invoke(args=["risk", "run", "--area", "880000"])
    assert result.exit_code != 0
    result = runner.invoke(args=["risk", "run", "--area", "123456", "--layer", "1"])
    assert result.exit_code != 0 and "area" in result.output
    result = runner.invoke(args=["risk", "import", __file__, "--name", "x", "--role", "hazard",
                                 "--value-field", "v"])
    assert result.exit_code != 0 and "unsupported" in result.output
