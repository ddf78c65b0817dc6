"""``dsdt bench --quick --json`` runs to its end and reports every measurement under its stable keys.

Not a timed test: the figures depend on the machine; what must never rot is that the benchmark
runs the app's engine end to end and says what it measured.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from webapp.cli import main

PHASES = ["start", "contact", "fiche", "dossier", "jury", "decision", "convention"]
TARGETS = {"accounts_10000_vs_none", "sqlite_full_vs_inmemory", "cold_vs_warm", "fresh_process_vs_warm",
           "fresh_process_vs_warm_cpu"}


def test_bench_quick_json_reports_every_measurement_with_stable_keys(monkeypatch):
    monkeypatch.delenv("DSDT_DATABASE_URL", raising=False)  # SQLite only here
    result = CliRunner().invoke(main, ["bench", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["format"] == 1 and report["quick"] is True
    assert report["sizes"]["accounts"] == [0, 1000, 10000]
    assert set(report["lifecycle"]) == {"sqlite_normal", "sqlite_full", "in_memory"}
    for run in report["lifecycle"].values():
        assert {"commands", "commands_per_second", "command_p50_ms", "command_p95_ms", "ratio_vs_inmemory"} <= set(run)
        assert run["commands"] > run["applications"] and run["unfinished"] == 0
    # Every store ran the same lifecycle: the journal counts what the in-memory run applied.
    assert report["lifecycle"]["sqlite_full"]["commands"] == report["lifecycle"]["in_memory"]["commands"]
    completion = report["completion"]["sqlite_full"]
    assert completion["warm_completion_ms"]["p50"] > 0 and completion["cold_completion_ms"]["p50"] > 0
    assert list(completion["fresh_process_first_command_ms_by_phase"]) == PHASES
    assert all(value > 0 for value in completion["fresh_process_first_command_ms_by_phase"].values())
    assert list(completion["fresh_process_first_command_cpu_ms_by_phase"]) == PHASES
    assert all(value > 0 for value in completion["fresh_process_first_command_cpu_ms_by_phase"].values())
    assert completion["warm_completion_cpu_ms"]["p50"] > 0
    assert len(completion["cold_completion_ms_by_task"]) >= 10
    assert set(report["accounts"]["warm_completion_ms_by_accounts"]) == {"0", "1000", "10000"}
    sizes = report["open_tasks"]["by_open_tasks"]
    assert list(sizes) == [str(size) for size in report["sizes"]["open_tasks"]]
    for size, measured in sizes.items():
        assert measured["open_tasks"] >= int(size) and measured["visible_to_user"] > 0
        assert measured["inbox_ms"]["p50"] > 0 and measured["completion_ms"]["p50"] > 0
    assert report["verify"]["clean"] and report["verify"]["dossiers_per_second"] > 0
    assert report["sizes_per_dossier"]["journal_bytes_per_dossier"] > 0
    assert report["sizes_per_dossier"]["state_bytes_per_dossier"] > 0  # states are stored by default
    assert report["peak_rss_mb"] > 0
    assert set(report["targets"]) == TARGETS
    assert all({"ratio", "limit", "met"} == set(target) for target in report["targets"].values())
