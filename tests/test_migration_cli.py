"""``dsdt migrate-dossiers`` (the engine side: tests/engine/test_migration.py)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from engine import Actor, Database, FixedClock, WorkflowEngine, campaigns_api
from engine.persistence.models import Deployment, Instance, JournalEntry
from engine.scripts import make_plain_script_engine
from tests.conftest import ROOT
from webapp.cli import main


def _setup(tmp_path) -> tuple[str, list[str]]:
    """Two dossiers on version 1; version 2 renames the convention's last step."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    db = Database(url)
    db.upgrade()
    engine = WorkflowEngine(db, FixedClock(datetime.now(UTC)), make_plain_script_engine())
    engine.deploy_directory(ROOT, author="tests")
    code, libelle, data = campaigns_api.historical_campaign()
    engine.save_campaign(code, libelle, data)
    ids = [engine.start(Actor(login, frozenset({"porteur"})), code) for login in ("p1", "p2")]
    for folder in ("processes", "forms"):
        shutil.copytree(ROOT / folder, tmp_path / "v2" / folder)
    path = tmp_path / "v2/processes/phase_convention.bpmn"
    path.write_text(path.read_text().replace('name="Notifier la convention"', 'name="Notifier la convention signée"'))
    assert engine.deploy_directory(tmp_path / "v2", author="tests").version == 2
    with engine.session() as session:
        refs = [session.get(Instance, iid).ref for iid in ids]
    db.dispose()
    return url, refs


def _versions(url: str) -> dict[str, tuple[int, int]]:
    """Each dossier's version and number of journaled migrations."""
    db = Database(url)
    with db.engine.connect() as connection:
        rows = connection.execute(select(Instance.ref, Deployment.version, Instance.id)
                                  .join(Deployment, Deployment.id == Instance.deployment_id)).all()
        result = {ref: (version, connection.scalar(select(JournalEntry.seq).where(
            JournalEntry.instance_id == iid, JournalEntry.command == "migrate").order_by(JournalEntry.seq.desc())
            .limit(1)) or 0) for ref, version, iid in rows}
    db.dispose()
    return result


def test_dsdt_migrate_dossiers_moves_the_named_dossier_and_back(tmp_path):
    url, (first, second) = _setup(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["migrate-dossiers", "--to", "2", "--dossier", first, "--reason", "Libellé corrigé",
                                  "--database", url])
    assert result.exit_code == 0, result.output
    assert f"1 dossier(s) migrated to version 2: {first}" in result.output
    assert _versions(url) == {first: (2, 2), second: (1, 0)}

    back = runner.invoke(main, ["migrate-dossiers", "--to", "1", "--dossier", first, "--reason", "Retour",
                                "--database", url])
    assert back.exit_code == 0, back.output
    assert _versions(url)[first] == (1, 3)
    verify = runner.invoke(main, ["verify", "--database", url])
    assert verify.exit_code == 0, verify.output


def test_dsdt_migrate_dossiers_of_a_whole_version(tmp_path):
    url, refs = _setup(tmp_path)
    result = CliRunner().invoke(main, ["migrate-dossiers", "--to", "2", "--from", "1", "--reason", "Campagne 2015",
                                       "--database", url])
    assert result.exit_code == 0, result.output
    assert {version for version, _ in _versions(url).values()} == {2}


def test_dsdt_migrate_dossiers_refuses_without_reason_or_selection(tmp_path):
    url, (first, _) = _setup(tmp_path)
    runner = CliRunner()
    blank = runner.invoke(main, ["migrate-dossiers", "--to", "2", "--dossier", first, "--reason", " ",
                                 "--database", url])
    assert blank.exit_code == 2 and "reason" in blank.output
    both = runner.invoke(main, ["migrate-dossiers", "--to", "2", "--reason", "x", "--database", url])
    assert both.exit_code == 2
    unknown = runner.invoke(main, ["migrate-dossiers", "--to", "9", "--from", "1", "--reason", "x",
                                   "--database", url])
    assert unknown.exit_code == 2 and "Version 9" in unknown.output
    assert {version for version, _ in _versions(url).values()} == {1}
