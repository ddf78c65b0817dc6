"""Time the process analytics (``engine.Analytics.compute``) on 10,000 dossiers.

The database is built in two stages:

1. ``--simulated`` dossiers of the 2014-2015 campaign run to their end through the real engine
   on a virtual clock (``simulate(DurableDriver(engine, clock), ...)``): every ``instance``,
   ``journal_entry`` and ``step_span`` row is written by engine commands;
2. unless ``--simulated`` already reaches ``--applications``, those dossiers' ``instance`` and
   ``step_span`` rows are copied (new ids and references, the same EPCI, outcomes, instants and
   seconds) until the database holds ``--applications`` dossiers: the rows the engine would have
   written for a campaign of that size with the same behaviours. Their journals are not copied
   (analytics never read them).

Then each query is timed ``--repeat`` times: no filter, one EPCI, the campaign and the version.

    .venv/bin/python benchmarks/analytics_bench.py --applications 10000 --simulated 300 [--json]
    .venv/bin/python benchmarks/analytics_bench.py --applications 10000 --simulated 10000   # all simulated
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import Analytics, AnalyticsFilter, EngineConfig, FixedClock, WorkflowEngine, campaigns_api  # noqa: E402
from engine.persistence.models import Instance, StepSpan  # noqa: E402
from engine.simulation import DurableDriver, simulate  # noqa: E402

COPIED_INSTANCE = [c.name for c in Instance.__table__.columns if c.name not in ("id", "ref")]
COPIED_SPAN = [c.name for c in StepSpan.__table__.columns if c.name not in ("id", "instance_id")]


def build(url: str, simulated: int, target: int, seed: int) -> dict:
    start = datetime(2014, 9, 1, 8, tzinfo=UTC)
    clock = FixedClock(start)
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    try:
        engine.db.upgrade()
        engine.deploy_directory(ROOT, author="benchmark", comment="analytics benchmark")
        engine.save_campaign(*campaigns_api.historical_campaign())
        began = time.perf_counter()
        result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", simulated, seed, start)
        simulated_s = time.perf_counter() - began
        began = time.perf_counter()
        copies = _copy(engine, target)
        return {"simulated": simulated, "simulate_seconds": round(simulated_s, 1),
                "final_states": result.final_states, "copied": copies,
                "copy_seconds": round(time.perf_counter() - began, 1)}
    finally:
        engine.close()


def _copy(engine, target: int) -> int:
    """Copy the simulated dossiers (instance and step_span rows) until ``target`` dossiers exist."""
    with engine.db.engine.begin() as connection:
        sources = connection.execute(select(Instance.__table__)).mappings().all()
        spans: dict[int, list] = {}
        for row in connection.execute(select(StepSpan.__table__)).mappings():
            spans.setdefault(row["instance_id"], []).append({name: row[name] for name in COPIED_SPAN})
        existing = connection.scalar(select(func.count()).select_from(Instance))
        copies, round_ = 0, 0
        while existing + copies < target:
            round_ += 1
            for source in sources:
                if existing + copies >= target:
                    break
                values = {name: source[name] for name in COPIED_INSTANCE}
                values["ref"] = f"{source['ref']}-c{round_}"
                new_id = connection.execute(insert(Instance).values(**values)).inserted_primary_key[0]
                rows = [{**span, "instance_id": new_id} for span in spans.get(source["id"], [])]
                if rows:
                    connection.execute(insert(StepSpan), rows)
                copies += 1
    return copies


def measure(url: str, repeat: int) -> dict:
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(datetime.now(UTC)))
    try:
        analytics = Analytics(engine)
        with engine.db.sessions() as session:
            counts = {"dossiers": session.scalar(select(func.count()).select_from(Instance)),
                      "step_spans": session.scalar(select(func.count()).select_from(StepSpan))}
            epci = session.scalar(select(Instance.epci).where(Instance.epci.is_not(None)).limit(1))
        cases = {"all": AnalyticsFilter(), f"epci={epci}": AnalyticsFilter(epci=epci),
                 "campaign+version": AnalyticsFilter(campaign="DSDT-2014", version=1)}
        timings = {}
        for name, flt in cases.items():
            analytics.compute(flt)  # warm: models parsed once per process, as in the web app
            seconds = []
            for _ in range(repeat):
                began = time.perf_counter()
                result = analytics.compute(flt)
                seconds.append(time.perf_counter() - began)
            timings[name] = {"dossiers": result.dossiers, "median_s": round(statistics.median(seconds), 3),
                             "max_s": round(max(seconds), 3)}
        return {**counts, "timings": timings}
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--simulated", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", help="an existing database URL to measure as it is (no build)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database
        built = None
        if url is None:
            url = f"sqlite:///{tmp}/analytics.sqlite"
            built = build(url, min(args.simulated, args.applications), args.applications, args.seed)
        report = {"database": url.split("://")[0], "built": built, **measure(url, args.repeat)}
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
