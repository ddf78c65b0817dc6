"""The virtual clock (issue 12): ``DSDT_CLOCK_OFFSET`` moves the web app's and the worker's time
for tests and demos, and is refused wherever it could be production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from engine import EngineConfig, Invalid, WorkflowEngine
from engine.clock import OffsetClock, parse_offset
from engine.config import embedded_url
from webapp.cli import main


@pytest.mark.parametrize("text, expected", [
    ("+30d", timedelta(days=30)), ("-2h", timedelta(hours=-2)), ("1d12h", timedelta(days=1, hours=12)),
    ("+90m", timedelta(minutes=90)), (" 15s ", timedelta(seconds=15)),
])
def test_offsets_are_read_in_days_hours_minutes_and_seconds(text, expected):
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["", "+", "30", "soon", "+3651d", "1d1", "+-1d", "1w"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_offset(text)


def test_on_the_embedded_default_the_engine_runs_on_the_virtual_clock():
    config = EngineConfig.from_env({"DSDT_CLOCK_OFFSET": "+30d"})
    assert config.database_url == embedded_url()
    clock = config.clock()
    assert isinstance(clock, OffsetClock) and clock.label == "+30d"
    ahead = clock.now() - datetime.now(UTC)
    assert timedelta(days=30) - timedelta(seconds=5) < ahead <= timedelta(days=30)


def test_another_database_needs_dsdt_env_saying_it_is_not_production(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    with pytest.raises(Invalid) as caught:
        EngineConfig.from_env({"DSDT_CLOCK_OFFSET": "+2h", "DSDT_DATABASE_URL": url})
    assert caught.value.code == "config.clock_offset_production" and "production" in str(caught.value)
    config = EngineConfig.from_env({"DSDT_CLOCK_OFFSET": "+2h", "DSDT_DATABASE_URL": url, "DSDT_ENV": "demo"})
    engine = WorkflowEngine.from_config(config)
    try:
        assert isinstance(engine.clock, OffsetClock) and engine.clock.offset == timedelta(hours=2)
    finally:
        engine.close()
    with pytest.raises(Invalid):  # and moving a test configuration to another database checks again
        EngineConfig.from_env({"DSDT_CLOCK_OFFSET": "+2h"}).with_database(url)


@pytest.mark.parametrize("env, code", [
    ({"DSDT_CLOCK_OFFSET": "+30d", "DSDT_ENV": "production"}, "config.clock_offset_production"),
    ({"DSDT_CLOCK_OFFSET": "tomorrow"}, "config.clock_offset"),
])
def test_production_or_a_malformed_offset_is_refused(env, code):
    with pytest.raises(Invalid) as caught:
        EngineConfig.from_env(env)
    assert caught.value.code == code


def test_without_the_setting_the_clock_is_the_real_one():
    assert EngineConfig.from_env({}).clock() is None


def test_a_worker_refuses_to_start_with_a_virtual_clock_in_production(tmp_path):
    url = f"sqlite:///{tmp_path / 'prod.sqlite'}"
    result = CliRunner().invoke(main, ["worker", "--database", url],
                                env={"DSDT_CLOCK_OFFSET": "+30d", "DSDT_ENV": "production"})
    assert result.exit_code == 2
    assert "Worker not started" in result.output and "DSDT_CLOCK_OFFSET" in result.output
