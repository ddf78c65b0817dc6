"""``dsdt export``: the event log to a file (whole or narrowed by campaign and day), a dossier's
archive, and refusals that leave no file behind."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.persistence.models import Instance, JournalEntry
from engine.simulation import DurableDriver, simulate
from webapp.cli import main

XES = "{http://www.xes-standard.org/}"


@pytest.fixture
def simulated(engine, clock):
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 8, seed=5,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    return engine


def _count(engine, *conditions) -> int:
    with engine.session() as session:
        return session.scalar(select(func.count()).select_from(JournalEntry).join(Instance).where(
            JournalEntry.command.in_(("start", "complete", "fire_timers", "withdraw")), *conditions))


def test_export_writes_each_format_and_says_how_much(simulated, tmp_path):
    url, runner = simulated.db.url, CliRunner()
    for fmt in ("xes", "ocel", "csv"):
        out = tmp_path / f"log.{fmt}"
        result = runner.invoke(main, ["export", fmt, "-o", str(out), "--database", url])
        assert result.exit_code == 0, result.output
        assert f"8 dossiers, {_count(simulated)} events written" in result.output
    assert len(ET.parse(tmp_path / "log.xes").getroot().findall(f"{XES}trace")) == 8
    assert len(json.loads((tmp_path / "log.ocel").read_text())["events"]) == _count(simulated)
    assert len((tmp_path / "log.csv").read_text().strip().splitlines()) == _count(simulated) + 1


def test_since_a_day_in_paris_and_a_campaign_narrow_the_log_to_whole_traces(simulated, tmp_path):
    url, runner = simulated.db.url, CliRunner()
    with simulated.session() as session:
        fifth = session.scalars(select(Instance.created_at).order_by(Instance.created_at)).all()[4]
    day = fifth.date().isoformat()  # every dossier opened that day (Paris) or later, with all its events
    since = datetime.fromisoformat(f"{day}T00:00:00+02:00")
    out = tmp_path / "since.xes"
    result = runner.invoke(main, ["export", "xes", "-o", str(out), "--since", day, "--database", url])
    assert result.exit_code == 0, result.output
    traces = ET.parse(out).getroot().findall(f"{XES}trace")
    assert len(traces) == _dossiers_since(simulated, since) and 0 < len(traces) < 8
    assert sum(len(t.findall(f"{XES}event")) for t in traces) == _count(simulated, Instance.created_at >= since)
    other = runner.invoke(main, ["export", "csv", "-o", str(tmp_path / "none.csv"), "--campaign", "AUTRE",
                                 "--database", url])
    assert other.exit_code == 0 and "0 dossiers, 0 events" in other.output


def _dossiers_since(engine, since) -> int:
    with engine.session() as session:
        return session.scalar(select(func.count(Instance.id)).where(Instance.created_at >= since))


def test_archive_of_a_dossier_and_refusals_leave_no_file(simulated, tmp_path):
    url, runner = simulated.db.url, CliRunner()
    with simulated.session() as session:
        ref = session.scalars(select(Instance.ref).order_by(Instance.id)).first()
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "archive.zip"
    result = runner.invoke(main, ["export", "archive", ref, "-o", str(out), "--database", url])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert f"dossier-{ref}/integrity.json" in archive.namelist()
    missing = runner.invoke(main, ["export", "archive", "DSDT-0000-99999", "-o", str(folder / "x.zip"),
                                   "--database", url])
    assert missing.exit_code == 2 and "DSDT-0000-99999" in missing.output
    assert sorted(p.name for p in folder.iterdir()) == ["archive.zip"]  # no partial file left
    assert runner.invoke(main, ["export", "xes", ref, "-o", str(out), "--database", url]).exit_code == 2
    assert runner.invoke(main, ["export", "pdf", "-o", str(out), "--database", url]).exit_code == 2
    bad_day = runner.invoke(main, ["export", "xes", "-o", str(out), "--since", "01/10/2014", "--database", url])
    assert bad_day.exit_code == 2 and "%Y-%m-%d" in bad_day.output
