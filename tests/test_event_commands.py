"""``dsdt message`` and ``dsdt signal`` (the engine side: tests/engine/test_semantics.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from engine import Actor, Database, FixedClock, WorkflowEngine, campaigns_api
from engine.persistence.models import Instance, JournalEntry
from engine.scripts import make_plain_script_engine
from tests.factories import with_contract
from webapp.cli import main

DATA = Path(__file__).parent / "data"


def _dossiers(url: str, model: str, logins: list[str]) -> list[str]:
    db = Database(url)
    db.upgrade()
    # The command line runs on the wall clock: the dossiers start now, their timers a day ahead.
    engine = WorkflowEngine(db, FixedClock(datetime.now(UTC)), make_plain_script_engine())
    engine.deploy(with_contract({"processes/dsdt_candidature.bpmn": (DATA / model).read_bytes()}), author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    engine.save_campaign(code, libelle, data)
    ids = [engine.start(Actor(login, frozenset({"porteur"})), code) for login in logins]
    with engine.session() as session:
        refs = [session.get(Instance, instance_id).ref for instance_id in ids]
    db.dispose()
    return refs


def _rows(url: str):
    db = Database(url)
    with db.engine.connect() as connection:
        rows = connection.execute(select(Instance.ref, Instance.status, Instance.outcome).order_by(Instance.id)).all()
        senders = connection.execute(select(JournalEntry.actor).where(JournalEntry.command.in_(["message", "signal"])))
        senders = list(senders.scalars())
    db.dispose()
    return rows, senders


def test_dsdt_message_delivers_to_the_correlated_dossier(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    first, second = _dossiers(url, "event_gateway.bpmn", ["p1", "p2"])

    result = CliRunner().invoke(main, ["message", "relance", "--correlation", f"dossier_ref={first}",
                                       "--payload", '{"motif": "relance"}', "--database", url])

    assert result.exit_code == 0, result.output
    assert "1 dossier(s) reached" in result.output
    rows, senders = _rows(url)
    assert [(ref, status, outcome) for ref, status, outcome in rows] == [
        (first, "completed", "relance"), (second, "running", None)]
    assert senders == ["dsdt-cli"]


def test_dsdt_message_refuses_a_message_without_correlation_or_with_a_bad_payload(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    _dossiers(url, "event_gateway.bpmn", ["p1"])
    runner = CliRunner()

    bare = runner.invoke(main, ["message", "relance", "--database", url])
    assert bare.exit_code == 2 and "correlation" in bare.output
    bad = runner.invoke(main, ["message", "relance", "-c", "porteur=p1", "--payload", "[1]", "--database", url])
    assert bad.exit_code == 2 and "JSON object" in bad.output
    assert _rows(url)[0][0][1] == "running"


def test_dsdt_signal_reaches_every_waiting_dossier(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    _dossiers(url, "signal.bpmn", ["p1", "p2"])

    result = CliRunner().invoke(main, ["signal", "cloture_campagne", "--actor", "admin1", "--database", url])

    assert result.exit_code == 0 and "2 dossier(s) reached" in result.output
    rows, senders = _rows(url)
    assert {status for _, status, _ in rows} == {"completed"} and senders == ["admin1", "admin1"]
