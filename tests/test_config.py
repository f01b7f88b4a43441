"""Declared configuration: defaults, environment, validation at start-up."""

import pytest

from emergency import create_app
from emergency.config import SETTINGS, ConfigError


def test_every_setting_has_a_description():
    assert all(s.description and len(s.description) > 10 for s in SETTINGS)
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_environment_values_are_typed(monkeypatch, tmp_path):
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "k",
                      "EMERGENCY_DATA_KEY": "x" * 44})
    assert app.config["DB_POOL_SIZE"] == 3
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("name, value", [
    ("DB_POOL_SIZE", "many"), ("SESSION_COOKIE_SECURE", "perhaps"),
    ("DATABASE_URL", "mysql://x"), ("BABEL_DEFAULT_LOCALE", "fr"), ("MAX_CONTENT_LENGTH", "0"),
])
def test_bad_values_stop_the_start(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    config = {"SECRET_KEY": "k", "EMERGENCY_DATA_KEY": "x" * 44}
    if name != "DATABASE_URL":
        config["DATABASE_URL"] = f"sqlite:///{tmp_path}/x.sqlite"
    with pytest.raises(ConfigError, match=name):
        create_app(config)


def test_development_secrets_are_generated_once(tmp_path, monkeypatch):
    from flask import Flask

    from emergency import config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("EMERGENCY_DATA_KEY", raising=False)
    first = Flask("x", instance_path=str(tmp_path))
    with pytest.warns(RuntimeWarning):
        config.load(first, {"DATABASE_URL": "sqlite:///x.sqlite"})
    second = Flask("x", instance_path=str(tmp_path))
    config.load(second, {"DATABASE_URL": "sqlite:///x.sqlite"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["EMERGENCY_DATA_KEY"] == second.config["EMERGENCY_DATA_KEY"]
    assert (tmp_path / "data_key").stat().st_mode & 0o077 == 0


def test_dict_settings_come_from_json(monkeypatch, tmp_path):
    monkeypatch.setenv("INCIDENT_COMPENSATION_RATES", '{"local_daily_wage": "320.00"}')
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "k",
                      "EMERGENCY_DATA_KEY": "x" * 44})
    assert app.config["INCIDENT_COMPENSATION_RATES"] == {"local_daily_wage": "320.00"}
    monkeypatch.setenv("INCIDENT_COMPENSATION_RATES", "[1]")
    with pytest.raises(ConfigError, match="INCIDENT_COMPENSATION_RATES"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "k",
                    "EMERGENCY_DATA_KEY": "x" * 44})
