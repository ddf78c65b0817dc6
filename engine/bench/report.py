"""``dsdt bench``: every measurement of issue 13 in one run, as one dict with stable keys.

Sizes: the full run uses the sizes the issue names (100 applications of lifecycle, 0 / 1,000 /
10,000 accounts, 1,000 / 10,000 / 100,000 open tasks); ``quick`` smaller ones, which the report
states (``"quick": true`` and the sizes under ``"sizes"``).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from . import lifecycle, loads, roundtrips, scale, stores, verify_speed

#: the report's format: bumped when a key changes meaning or goes away (new keys may be added)
FORMAT = 1
FULL = {"applications": 100, "walked_dossiers": 10, "accounts": (0, 1_000, 10_000), "account_completions": 100,
        "open_tasks": (1_000, 10_000, 100_000), "samples": 30}
QUICK = {"applications": 8, "walked_dossiers": 2, "accounts": (0, 1_000, 10_000), "account_completions": 15,
         "open_tasks": (100, 300, 1_000), "samples": 8}


def run(quick: bool = False, postgres_url: str | None = None, prepare=None, seed: int = 1, log=None) -> dict:
    """Measure; ``postgres_url``: also on PostgreSQL (in a schema of its own, dropped after);
    ``prepare(engine)``: gives each engine the web app's services (default: its stored notifier)."""
    sizes = QUICK if quick else FULL
    say = log or (lambda message: None)
    began = time.perf_counter()
    report = {"format": FORMAT, "quick": quick, "sizes": {key: list(value) if isinstance(value, tuple) else value
                                                          for key, value in sizes.items()},
              "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="dsdt-bench-") as tmp:
        folder = Path(tmp)
        say("lifecycle")
        runs, forms, campaign = {}, None, None
        for synchronous in ("NORMAL", "FULL"):
            result, forms, campaign = lifecycle.durable(stores.sqlite_url(folder, f"lifecycle-{synchronous}"),
                                                        synchronous, sizes["applications"], seed, prepare)
            runs[result["store"]] = result
        if postgres_url:
            with stores.postgres_schema(postgres_url) as url:
                result, _, _ = lifecycle.durable(url, "FULL", sizes["applications"], seed, prepare)
                runs[result["store"]] = result
        runs["in_memory"] = lifecycle.in_memory(forms, campaign, sizes["applications"], seed)
        memory = runs["in_memory"]["seconds"]
        for result in runs.values():
            result["ratio_vs_inmemory"] = round(result["seconds"] / memory, 3) if memory else None
        report["lifecycle"] = runs
        say("warm, cold and fresh-process completions")
        report["completion"] = {"sqlite_full": loads.along_lifecycle(
            stores.sqlite_url(folder, "loads-FULL"), "FULL", sizes["walked_dossiers"], prepare=prepare)}
        if postgres_url:
            with stores.postgres_schema(postgres_url) as url:
                report["completion"]["postgresql"] = loads.along_lifecycle(url, "FULL", sizes["walked_dossiers"],
                                                                           prepare=prepare)
            say("PostgreSQL round trips per command")
            with stores.postgres_schema(postgres_url) as url:
                report["round_trips"] = {"postgresql": roundtrips.per_command(url, sizes["walked_dossiers"],
                                                                              prepare=prepare)}
        say("accounts")
        report["accounts"] = scale.accounts(folder, sizes["accounts"], sizes["account_completions"], 10, "FULL",
                                            prepare)
        say("open tasks")
        report["open_tasks"] = scale.open_tasks(folder, sizes["open_tasks"], sizes["samples"], "FULL", prepare)
        say("verify")
        report["verify"] = verify_speed.measure(stores.sqlite_url(folder, "lifecycle-FULL"))
    report["sizes_per_dossier"] = {key: runs["sqlite_full"][key] for key in
                                   ("journal_bytes_per_dossier", "state_bytes_per_dossier")}
    report["peak_rss_mb"] = round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024, 1)
    report["targets"] = targets(report)
    report["seconds"] = round(time.perf_counter() - began, 1)
    return report


def targets(report: dict) -> dict:
    """The issue's targets, each with the measured ratio, its limit and whether it is met."""
    def target(value, limit):
        return {"ratio": None if value is None else round(value, 3), "limit": limit,
                "met": None if value is None else value <= limit}

    accounts = report["accounts"]["ratio_vs_no_extra_accounts"]
    completion = report["completion"]["sqlite_full"]
    warm = completion["warm_completion_ms"]["p50"]
    result = {
        "accounts_10000_vs_none": target(accounts.get("10000"), 1.1),
        "sqlite_full_vs_inmemory": target(report["lifecycle"]["sqlite_full"]["ratio_vs_inmemory"], 1.3),
        "cold_vs_warm": target(completion["cold_completion_ms"]["p50"] / warm, 2.0),
        "fresh_process_vs_warm": target(completion["fresh_process_first_command_ms"]["max"] / warm, 5.0),
        # the same by CPU time, which the machine's load does not inflate
        "fresh_process_vs_warm_cpu": target(completion["fresh_process_first_command_cpu_ms"]["max"]
                                            / completion["warm_completion_cpu_ms"]["p50"], 5.0),
    }
    if "postgresql" in report["completion"]:
        postgres = report["completion"]["postgresql"]["warm_completion_ms"]["p50"]
        result["postgresql_warm_vs_sqlite_full"] = target(postgres / warm, 2.0)
    return result
