"""The ``dsdt`` command: deploy, simulate, verify (worker: see the scenario tests)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from webapp.cli import main


def test_deploy_then_nothing_changed(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    first = runner.invoke(main, ["deploy", "--database", url])
    assert first.exit_code == 0 and "Deployed version 1" in first.output
    second = runner.invoke(main, ["deploy", "--database", url])
    assert second.exit_code == 0 and "stays current" in second.output


def test_deploy_refuses_a_broken_file_and_names_it(models):
    (models / "processes" / "phase_jury.bpmn").write_text("<bpmn:definitions")
    url = f"sqlite:///{models / 'cli.sqlite'}"
    result = CliRunner().invoke(main, ["deploy", "--root", str(models), "--database", url])
    assert result.exit_code == 2
    assert "phase_jury.bpmn" in result.output and "unchanged" in result.output


def test_simulate_json_reports_outcomes_juries_and_the_baseline():
    result = CliRunner().invoke(main, ["simulate", "--applications", "8", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert {"applications", "final_states", "jury", "commands", "seconds"} <= set(report)
    assert report["applications"] == 8 and sum(report["final_states"].values()) == 8
    assert set(report["jury"]) == {"territorial", "regional"}
    assert report["baseline"]["final_states"] == report["final_states"]  # the same lifecycle in memory
    assert report["ratio"] > 0
    assert report["database"] == "sqlite" and report["sqlite_synchronous"] == "FULL"


def test_simulate_runs_the_app_engine_on_dsdt_database_url_and_counts_what_the_journal_holds(tmp_path):
    """Issue 13: the simulation ignored DSDT_DATABASE_URL, ran without the web app's notifier and
    reported fewer commands than it journaled."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'simulated.sqlite'}"
    env = {"DSDT_DATABASE_URL": url, "DSDT_SQLITE_SYNCHRONOUS": "normal"}
    result = CliRunner().invoke(main, ["simulate", "-n", "6", "--seed", "3", "--json", "--no-baseline"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["sqlite_synchronous"] == "NORMAL"
    database = create_engine(url)
    try:
        with database.connect() as connection:
            journal, notified, mails = (connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                                        for table in ("journal_entry", "notification", "outbox_email"))
    finally:
        database.dispose()
    assert report["commands"] == journal
    assert notified > 0 and mails > 0  # the stored notifier of the web app and the worker ran

    again = CliRunner().invoke(main, ["simulate", "-n", "2", "--json", "--no-baseline"], env=env)
    assert again.exit_code == 2  # never mixed into a database that already holds applications
    assert "already holds" in again.output and "DSDT_DATABASE_URL" in again.output


def test_deploy_check_history_refuses_models_that_break_recorded_histories(models):
    from datetime import UTC, datetime

    from engine import EngineConfig, FixedClock, WorkflowEngine, campaigns_api
    from tests.factories import Walker

    url = f"sqlite:///{models / 'cli.sqlite'}"
    runner = CliRunner()
    assert runner.invoke(main, ["deploy", "--database", url]).exit_code == 0
    clock = FixedClock(datetime(2014, 10, 1, 8, tzinfo=UTC))
    engine = WorkflowEngine.from_config(EngineConfig(url), clock=clock)
    try:
        code, libelle, data = campaigns_api.historical_campaign()
        engine.save_campaign(code, libelle, data)
        walker = Walker(engine, clock)
        walker.do(walker.start(), "contact", epci="CAB")
    finally:
        engine.close()
    path = models / "processes" / "phase_contact.bpmn"
    renamed = path.read_text().replace('"contact"', '"premier_contact"').replace(">contact<", ">premier_contact<")
    path.write_text(renamed)
    result = runner.invoke(main, ["deploy", "--check-history", "--root", str(models), "--database", url])
    assert result.exit_code == 3, result.output
    assert "DSDT-2014-00001" in result.output
    ok = runner.invoke(main, ["deploy", "--check-history", "--database", url])
    assert ok.exit_code == 0 and "All 1 recorded histories fit" in ok.output
