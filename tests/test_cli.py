"""The ``dsdt`` command: deploy, simulate, verify (worker: see the scenario tests)."""

from __future__ import annotations

import json

import pytest
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
    # the conventions run after the dossiers and are counted apart (not in the in-memory baseline)
    assert report["commands"] + report["conventions"]["commands"] == journal
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
    contract = models / "processes" / "contract.json"  # renamed in the contract too: it holds
    contract.write_text(contract.read_text().replace('"contact"', '"premier_contact"'))
    result = runner.invoke(main, ["deploy", "--check-history", "--root", str(models), "--database", url])
    assert result.exit_code == 3, result.output
    assert "DSDT-2014-00001" in result.output
    ok = runner.invoke(main, ["deploy", "--check-history", "--database", url])
    assert ok.exit_code == 0 and "All 1 recorded histories fit" in ok.output


def _rewrite_actors(engine, instance_id: int, actor: str) -> None:
    """What someone with write access does: change every entry, recompute every hash and the head."""
    from engine import journal
    from engine.persistence.models import Instance

    with engine.session() as session:
        rows = journal.entries(session, instance_id)
        prev = ""
        for row in rows:
            row.actor, row.prev_hash = actor, prev
            row.entry_hash = prev = journal.entry_hash(row.instance_id, row.seq, row.command, row.actor, row.at,
                                                       row.payload, row.state_hash, row.prev_hash)
        session.get(Instance, instance_id).journal_head = prev
        session.commit()


def test_seal_then_verify_seals_catches_a_chain_rewritten_with_recomputed_hashes(engine, walker, tmp_path):
    """Issue 10: `verify` alone passes a consistently rewritten chain; `verify --seals` names the dossier."""
    first = walker.start()
    walker.through_contact(first)
    second = walker.start()
    url, runner = engine.db.url, CliRunner()
    key, log = tmp_path / "keys" / "seal.pem", tmp_path / "published" / "seals.jsonl"
    key.parent.mkdir()
    log.parent.mkdir()

    refused = runner.invoke(main, ["seal", "--database", url], env={"DSDT_SEAL_KEY": None})
    assert refused.exit_code == 2 and "DSDT_SEAL_KEY" in refused.output and "keygen" in refused.output
    made = runner.invoke(main, ["seal", "keygen", "--out", str(key)])
    assert made.exit_code == 0 and "Fingerprint" in made.output, made.output
    env = {"DSDT_SEAL_KEY": str(key)}
    sealed = runner.invoke(main, ["seal", "--database", url, "--append", str(log)], env=env)
    assert sealed.exit_code == 0 and "Seal 1: 2 dossiers" in sealed.output, sealed.output
    exported = tmp_path / "export.jsonl"
    assert runner.invoke(main, ["seal", "export", "-o", str(exported), "--database", url]).exit_code == 0
    assert exported.read_text() == log.read_text()

    public = ["--public-key", f"{key}.pub"]
    clean = runner.invoke(main, ["verify", "--database", url, "--seals", str(log), *public])
    assert clean.exit_code == 0 and "no sealed history rewritten" in clean.output, clean.output

    _rewrite_actors(engine, first, "quelquun-dautre")
    ref = engine.instance(first).ref
    assert runner.invoke(main, ["verify", "--database", url]).exit_code == 0  # the chain alone cannot tell
    caught = runner.invoke(main, ["verify", "--database", url, "--seals", str(log)], env=env)  # DSDT_SEAL_KEY's
    assert caught.exit_code == 1
    assert f"{ref} (instance {first}), seal 1:" in caught.output
    assert engine.instance(second).ref not in caught.output
    as_json = runner.invoke(main, ["verify", "--json", "--database", url, "--seals", str(log), *public])
    report = json.loads(as_json.output.strip().splitlines()[-1])
    assert report["diverged"] == [] and [item["ref"] for item in report["seals"]["rewritten"]] == [ref]

    other = tmp_path / "other.pem"
    assert runner.invoke(main, ["seal", "keygen", "--out", str(other)]).exit_code == 0
    untrusted = runner.invoke(main, ["verify", "--database", url, "--seals", str(log), "--public-key", f"{other}.pub"])
    assert untrusted.exit_code == 1 and "not a trusted public key" in untrusted.output


def test_a_dossiers_seal_proof_checks_with_the_public_key_alone(engine, walker, tmp_path):
    walker.start()
    ref = engine.instance(walker.start()).ref
    url, runner, key = engine.db.url, CliRunner(), tmp_path / "seal.pem"
    assert runner.invoke(main, ["seal", "keygen", "--out", str(key)]).exit_code == 0
    assert runner.invoke(main, ["seal", "--database", url], env={"DSDT_SEAL_KEY": str(key)}).exit_code == 0
    printed = runner.invoke(main, ["seal", "proof", ref, "--database", url])
    assert printed.exit_code == 0, printed.output
    proof = tmp_path / "proof.json"
    proof.write_text(printed.stdout)  # the proof alone: log records go to stderr
    checked = runner.invoke(main, ["seal", "check-proof", str(proof), "--public-key", f"{key}.pub"])
    assert checked.exit_code == 0 and f"{ref}: entry 1 with head" in checked.output, checked.output
    forged = json.loads(printed.stdout)
    forged["leaf"][3] = "0" * 64
    proof.write_text(json.dumps(forged))
    refused = runner.invoke(main, ["seal", "check-proof", str(proof), "--public-key", f"{key}.pub"])
    assert refused.exit_code == 1 and "not in the sealed tree" in refused.output
    missing = runner.invoke(main, ["seal", "proof", "DSDT-2014-99999", "--database", url])
    assert missing.exit_code == 2 and "in no seal" in missing.output


def test_seal_keys_stay_out_of_the_repository_and_a_bad_key_stops_the_worker(engine, tmp_path):
    from webapp.cli import PROJECT_ROOT

    inside = CliRunner().invoke(main, ["seal", "keygen", "--out", str(PROJECT_ROOT / "instance" / "seal.pem")])
    assert inside.exit_code == 2 and "inside the repository" in inside.output
    assert not (PROJECT_ROOT / "instance" / "seal.pem").exists()
    absent = str(tmp_path / "absent.pem")
    stopped = CliRunner().invoke(main, ["worker", "--database", engine.db.url], env={"DSDT_SEAL_KEY": absent})
    assert stopped.exit_code == 2 and "Worker not started" in stopped.output and absent in stopped.output


def test_the_workers_seal_job_seals_daily_when_a_key_is_configured(engine, clock, tmp_path, monkeypatch):
    from engine import seals
    from webapp.seal_commands import seal_jobs

    monkeypatch.delenv("DSDT_SEAL_KEY", raising=False)
    assert seal_jobs(engine) == []
    seals.generate_key(tmp_path / "seal.pem")
    monkeypatch.setenv("DSDT_SEAL_KEY", str(tmp_path / "seal.pem"))
    monkeypatch.setenv("DSDT_SEAL_INTERVAL_HOURS", "6")
    [job] = seal_jobs(engine)
    assert [job(), job()] == [1, 0]
    clock.advance(hours=6)
    assert job() == 1


# -- production (issue 12): the explicit migration, services that refuse a stale schema, no demo on a real database


def _accounts(url: str) -> list[str]:
    from sqlalchemy import create_engine, inspect, text

    database = create_engine(url)
    try:
        with database.connect() as connection:
            if not inspect(connection).has_table("app_user"):
                return []
            return list(connection.execute(text("SELECT login FROM app_user")).scalars())
    finally:
        database.dispose()


def test_migrate_brings_the_schema_to_head_once(database_url):
    runner = CliRunner()
    first = runner.invoke(main, ["migrate", "--database", database_url])
    assert first.exit_code == 0 and "migrated to revision" in first.output, first.output
    again = runner.invoke(main, ["migrate", "--database", database_url])
    assert again.exit_code == 0 and "already current" in again.output


def test_a_worker_on_a_postgresql_schema_not_migrated_refuses_to_start_and_says_to_migrate(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: the embedded SQLite migrates at start")
    result = CliRunner().invoke(main, ["worker", "--database", database_url])
    assert result.exit_code == 2 and "Worker not started" in result.output and "dsdt migrate" in result.output
    assert _accounts(database_url) == []  # nothing created: the migration is an explicit step


def test_run_seeds_no_demo_accounts_on_a_database_other_than_the_embedded_default(database_url):
    """Before: `dsdt run` created the demo accounts, admin included, with the published password,
    on whatever DSDT_DATABASE_URL named."""
    runner = CliRunner()
    assert runner.invoke(main, ["migrate", "--database", database_url]).exit_code == 0
    env = {"DSDT_DATABASE_URL": database_url}
    result = runner.invoke(main, ["run", "--setup-only", "--history", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert "demo-dsdt-2024" not in result.output and "--demo" in result.output
    assert _accounts(database_url) == []
    if database_url.startswith("postgresql"):
        refused = runner.invoke(main, ["run", "--setup-only", "--history", "0", "--demo"], env=env)
        assert refused.exit_code == 2 and "--force" in refused.output
        assert _accounts(database_url) == []


def test_demo_data_only_on_the_embedded_default_or_when_asked():
    from webapp.demo import DemoRefused, should_seed

    assert should_seed(None, None)  # the embedded SQLite default
    assert not should_seed("sqlite:////srv/dsdt.sqlite", None)
    assert should_seed("sqlite:////tmp/demo.sqlite", True)
    assert not should_seed(None, False)
    with pytest.raises(DemoRefused, match="--force"):
        should_seed("postgresql+psycopg://dsdt@db/dsdt", True)
    assert should_seed("postgresql+psycopg://dsdt@db/dsdt", True, force=True)
