"""Deadline day for the timer workers (issue 12, item 4): N dossiers wait for their fiche when the
campaign's deadline passes, so every one of their timers falls due at the same instant; 1, then
W worker processes (each its own engine, as ``dsdt worker``) fire them on PostgreSQL.

Reports, per run: timers fired per second (wall time from the start signal until every worker
found nothing left), each worker's claimed / fired / missed counts (``missed``: a dossier claimed
then found taken, or a claim that lost a race: the "lock-attempt failures"), the CPU seconds of
the workers, and checks that each dossier's deadline fired exactly once and that ``verify`` passes.

    .venv/bin/python benchmarks/timers_bench.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --dossiers 300 --workers 1 3 [--source /tmp/before] [--json]

``--source DIR`` runs the workers on another source tree (the code before a change, say, from
``git archive``); the seeding always uses this one. Each run seeds its own schema (dropped after).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIRST_DAY = datetime(2014, 10, 1, 8, tzinfo=UTC)
DEADLINE_PASSED = datetime(2014, 12, 2, 12, tzinfo=UTC)


def _schema_url(base: str, schema: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def seed(url: str, dossiers: int) -> None:
    """``dossiers`` applications through the contact phase (real commands), all waiting for their fiche."""
    from engine import Database, EngineConfig, FixedClock, WorkflowEngine, campaigns_api
    from tests.factories import Walker

    Database(url).upgrade()
    clock = FixedClock(FIRST_DAY)
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock, upgrade=False)
    try:
        engine.deploy_directory(ROOT, author="bench")
        engine.save_campaign(*campaigns_api.historical_campaign())
        walker = Walker(engine, clock)
        for _ in range(dossiers):
            clock.set(FIRST_DAY)  # the walker moves a day a step: every dossier reaches the fiche in time
            walker.through_contact(walker.start())
    finally:
        engine.close()


def _worker(source: str | None, url: str, ready, go, results) -> None:
    if source:
        sys.path.insert(0, source)
    from engine import EngineConfig, FixedClock, WorkflowEngine

    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(DEADLINE_PASSED),
                                        upgrade=False)
    ready.release()
    go.wait()
    began_cpu = time.process_time()
    fired = 0
    while True:
        moved = engine.fire_due_timers()
        fired += moved
        if not moved:
            break
    counts = dict(getattr(engine, "timer_counts", {}) or {})
    results.put({"fired": fired, "cpu_s": round(time.process_time() - began_cpu, 2), "counts": counts,
                 "finished": time.perf_counter()})
    engine.close()


def run(base_url: str, dossiers: int, workers: int, source: str | None) -> dict:
    schema = f"bench_timers_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = _schema_url(base_url, schema)
    try:
        seed(url, dossiers)
        context = multiprocessing.get_context("spawn")
        ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
        processes = [context.Process(target=_worker, args=(source, url, ready, go, results)) for _ in range(workers)]
        for process in processes:
            process.start()
        for _ in processes:
            ready.acquire()  # every engine built (imports, parsed models) before the clock starts
        began = time.perf_counter()
        go.set()
        outcomes = [results.get(timeout=1800) for _ in processes]
        for process in processes:
            process.join()
        wall = max(outcome["finished"] for outcome in outcomes) - began
        with admin.connect() as connection:
            connection.execute(text(f"SET search_path TO {schema}"))
            per_dossier = connection.execute(text(
                "SELECT count(*), count(DISTINCT instance_id) FROM journal_entry WHERE command = 'fire_timers'")).one()
        fired = sum(outcome["fired"] for outcome in outcomes)
        missed = sum(outcome["counts"].get("missed", 0) for outcome in outcomes)
        return {
            "workers": workers, "dossiers": dossiers, "source": source or "this tree",
            "fired": fired, "wall_s": round(wall, 2), "timers_per_s": round(fired / wall, 1),
            "worker_cpu_s": [outcome["cpu_s"] for outcome in outcomes],
            "per_worker": [outcome["counts"] or {"fired": outcome["fired"]} for outcome in outcomes],
            "lock_attempt_failures": missed,
            "failure_share": round(missed / (missed + fired), 3),  # of the attempts on a dossier
            "each_fired_once": per_dossier[0] == per_dossier[1] == dossiers,
            "verify_ok": _verified(url),
        }
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _verified(url: str) -> bool:
    from engine import EngineConfig, WorkflowEngine

    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), upgrade=False)
    try:
        report = engine.verify()
        return report.chain_ok and not report.diverged and report.verified == report.instances
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL (a schema is created per run)")
    parser.add_argument("--dossiers", type=int, default=300)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--source", help="run the workers on this source tree instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.database.startswith("postgresql"):
        parser.error("the timer workers share work on PostgreSQL only")
    if not 1 <= args.dossiers <= 100_000 or not all(1 <= count <= 32 for count in args.workers):
        parser.error("--dossiers from 1 to 100,000, --workers from 1 to 32")
    reports = []
    for count in args.workers:
        report = run(args.database, args.dossiers, count, args.source)
        reports.append(report)
        if not args.json:
            print(f"{count} worker(s): {report['fired']} timers in {report['wall_s']} s = {report['timers_per_s']}/s; "
                  f"lock-attempt failures {report['lock_attempt_failures']} ({report['failure_share']}); "
                  f"CPU {report['worker_cpu_s']} s; each fired once {report['each_fired_once']}; "
                  f"verify {'ok' if report['verify_ok'] else 'FAILED'}", flush=True)
    if args.json:
        print(json.dumps(reports))


if __name__ == "__main__":
    main()
