"""``verify`` over a campaign (issue 12, item 7): chunks, worker processes, a resume file and
progress; the faster search for ready tasks returns exactly what SpiffWorkflow's iterator does."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import text

from engine import EngineConfig, Invalid, verification
from engine.bpmn import engine_steps
from engine.simulation import DurableDriver, simulate
from webapp.cli import main


@pytest.fixture
def campaign(engine, clock):
    """Nine simulated dossiers, one of whose journal is then altered."""
    engine.checkpoint_every = 4
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 9, seed=11,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    with engine.db.engine.begin() as connection:
        connection.execute(text("UPDATE journal_entry SET payload = :p WHERE instance_id = 4 AND seq = 2"),
                           {"p": json.dumps({"task": "forged", "data": {}})})
    return engine


def _as_dict(report):
    return report.as_dict()


def test_verify_in_chunks_names_the_altered_dossier(campaign):
    report = verification.verify_dossiers(campaign, chunk=2)
    assert report.instances == 9 and report.verified == 8
    assert [item["instance"] for item in report.diverged] == [4]
    assert _as_dict(report) == _as_dict(campaign.verify())  # the engine's verify is this one


def test_two_worker_processes_give_the_report_of_one(campaign):
    config = EngineConfig(campaign.db.url, script_workers=1)
    seen = []
    alone = verification.verify_dossiers(campaign, chunk=2)
    shared = verification.verify_dossiers(campaign, config, jobs=2, chunk=2, progress=seen.append)
    assert _as_dict(shared) == _as_dict(alone)
    assert [where.done for where in seen] == sorted(where.done for where in seen)
    assert seen[-1].done == seen[-1].total == 9


def test_a_resumed_run_skips_the_dossiers_its_file_records(campaign, tmp_path, monkeypatch):
    progress = tmp_path / "verify.progress"
    first = verification.verify_dossiers(campaign, resume=progress, chunk=3)
    lines = progress.read_text().splitlines()
    assert len(lines) == 1 + 3  # the header, then one line per chunk
    # Stopped after the first chunk (the last line cut short by the crash):
    progress.write_text("\n".join(lines[:2]) + "\n" + lines[2][:10])
    replayed = []
    real = verification.verify_chunk

    def counting(session, ids, *args):
        replayed.extend(ids)
        return real(session, ids, *args)

    monkeypatch.setattr(verification, "verify_chunk", counting)
    again = verification.verify_dossiers(campaign, resume=progress, chunk=3)
    assert replayed == [4, 5, 6, 7, 8, 9]  # the first chunk's 1, 2, 3 are not replayed again
    assert _as_dict(again) == _as_dict(first)
    replayed.clear()
    assert _as_dict(verification.verify_dossiers(campaign, resume=progress, chunk=3)) == _as_dict(first)
    assert replayed == []  # all done: nothing replayed


def test_a_resume_file_of_another_database_or_of_nothing_is_refused(campaign, tmp_path):
    progress = tmp_path / "verify.progress"
    verification.ResumeFile(progress, "sqlite:///elsewhere.sqlite").start()
    with pytest.raises(Invalid) as caught:
        verification.verify_dossiers(campaign, resume=progress)
    assert caught.value.code == "verify.resume_other_database"
    progress.write_text("not a progress file\n")
    with pytest.raises(Invalid) as caught:
        verification.verify_dossiers(campaign, resume=progress)
    assert caught.value.code == "verify.resume_invalid"


def test_jobs_are_bounded(campaign):
    with pytest.raises(Invalid):
        verification.verify_dossiers(campaign, jobs=0)
    with pytest.raises(Invalid):
        verification.verify_dossiers(campaign, jobs=verification.MAX_JOBS + 1)


def test_the_command_prints_progress_on_stderr_and_only_the_report_on_stdout(campaign, tmp_path):
    progress = tmp_path / "verify.progress"
    result = CliRunner().invoke(main, ["verify", "--database", campaign.db.url, "--json", "--jobs", "2",
                                       "--resume", str(progress), "--progress-every", "1"])
    assert result.exit_code == 1  # the altered dossier
    report = json.loads(result.stdout)
    assert [item["instance"] for item in report["diverged"]] == [4] and report["instances"] == 9
    assert "verify: 9/9 dossiers" in result.stderr
    assert progress.exists()


def test_the_fast_search_for_ready_tasks_matches_spiffworkflow_at_every_step(campaign, monkeypatch):
    """Each search for ready tasks while the nine dossiers are replayed (the top workflow and the
    subprocesses, at every engine step of every entry) is compared with SpiffWorkflow's own."""
    fast, calls = engine_steps.ready_tasks, []

    def compared(wf):
        found = fast(wf)
        assert found == wf.get_tasks(state=TaskState.READY)
        calls.append(len(found))
        return found

    monkeypatch.setattr(engine_steps, "ready_tasks", compared)
    assert campaign.verify().verified == 8
    assert len(calls) > 100 and sum(1 for count in calls if count) > 50
