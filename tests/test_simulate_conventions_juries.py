"""Issue 14: ``dsdt simulate`` runs conventions (signed, amended by avenant, refused) and the
territorial jury sessions (quorum met, failed quorum, impossibility declared) on the engine, and
``dsdt verify`` replays every one of them."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from engine.simulation.conventions import PATHS as CONVENTION_PATHS
from engine.simulation.sessions import DECLARED, QUORUM_FAILED
from engine.simulation.sessions import PATHS as SESSION_PATHS
from webapp.cli import main


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_simulate_covers_conventions_and_jury_sessions_and_verify_replays_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'simulated.sqlite'}"
    result = CliRunner().invoke(main, ["simulate", "-n", "20", "--seed", "2", "--json", "--database", url])
    assert result.exit_code == 0, result.output
    report = _last_json(result.output)
    conventions = report["conventions"]
    assert conventions["conventions"] == len(CONVENTION_PATHS)
    assert all(conventions["paths"][path] > 0 for path in CONVENTION_PATHS)
    assert conventions["outcomes"] == {"refusee": 2, "signee_v1": 2, "signee_v2": 1}  # avenant: version 2
    sessions = report["jury_sessions"]
    assert all(sessions[path]["sessions"] > 0 for path in SESSION_PATHS)
    assert sessions[DECLARED]["to_regional"] + sessions[QUORUM_FAILED]["to_regional"] > 0
    # the baseline runs the same sessions on in-memory states: the same outcomes, same commands
    assert report["baseline"]["jury_sessions"] == sessions
    assert report["baseline"]["final_states"] == report["final_states"]
    assert report["baseline"]["commands"] == report["commands"]

    database = create_engine(url)
    try:
        with database.connect() as connection:
            families = dict(connection.execute(text("SELECT family, count(*) FROM instance "
                                                    "GROUP BY 1")).all())
            messages = connection.execute(text("SELECT count(*) FROM journal_entry WHERE command = 'message'"))
            records = connection.execute(text("SELECT count(*) FROM journal_entry WHERE command = 'jury_record'"))
            messages, records = messages.scalar_one(), records.scalar_one()
    finally:
        database.dispose()
    assert families == {"candidature": 20, "convention": len(CONVENTION_PATHS)}
    assert messages == sessions[DECLARED]["to_regional"] + sessions[QUORUM_FAILED]["to_regional"]
    assert records > 0  # the session whose quorum was met recorded its attendance in its dossiers

    verified = CliRunner().invoke(main, ["verify", "--database", url, "--json"])
    assert verified.exit_code == 0, verified.output
    replay = _last_json(verified.output)
    assert replay["instances"] == replay["verified"] == 20 + len(CONVENTION_PATHS)
    assert replay["diverged"] == [] and replay["chain_ok"]
