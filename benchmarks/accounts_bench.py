"""A warm task completion with 0 and with 10,000 extra porteur accounts (issue 13).

Each case is an engine built as the web app builds it (``WorkflowEngine.from_config`` and
``webapp.services.build``, so the stored notifier runs), on a fresh SQLite file holding the
people of the 2014-2015 campaign (as ``dsdt simulate`` creates them), plus ``extra`` porteur
accounts with an address. ``--applications`` applications are started in each case, then the
porteur completes their ``contact`` step (which opens the commune technicien's ``avis_commune``:
a role task, so the notifier looks its people up): the workflow is in the engine's cache, a warm
completion. The cases take turns, completion by completion (a, b, c, c, b, a...), so a shared,
busy machine loads them alike. A last case runs without the notifier, for its share.

    .venv/bin/python benchmarks/accounts_bench.py [--extra 10000] [--applications 300] [--synchronous FULL] [--json]
    # the same cases on another source tree (e.g. the commit before the change):
    mkdir -p /tmp/before && git archive 195f225 | tar -x -C /tmp/before
    .venv/bin/python benchmarks/accounts_bench.py --tree /tmp/before
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_tree(tree: Path) -> None:
    sys.path.insert(0, str(tree))


class Case:
    """One engine on its own database, with its applications started and ready to complete."""

    def __init__(self, label: str, folder: Path, extra: int, notifier: bool, applications: int, seed: int,
                 synchronous: str):
        from engine import Actor, EngineConfig, FixedClock, WorkflowEngine, campaigns_api, roles
        from engine.simulation import behaviours
        from engine.simulation.fake_data import generate

        self.label, self.extra, self.times = label, extra, []
        self.clock = FixedClock(datetime(2014, 9, 15, 8, tzinfo=UTC))
        url = f"sqlite:///{folder / (label.replace(' ', '_').replace(',', '') + '.sqlite')}"
        settings = {"sqlite_synchronous": synchronous} if "sqlite_synchronous" in EngineConfig.__dataclass_fields__ \
            else {}  # a tree from before issue 13 runs at NORMAL, the only setting it had
        self.engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1, **settings), clock=self.clock)
        with self.engine.db.engine.connect() as connection:
            level = connection.exec_driver_sql("PRAGMA synchronous").scalar_one()
        self.synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[level]
        if notifier:
            from webapp.services import build  # noqa: TID251 - the benchmark builds the app's engine

            build({}, self.engine)
        code, libelle, data = campaigns_api.historical_campaign()
        self.engine.deploy_directory(ROOT, author="benchmark")
        self.engine.save_campaign(code, libelle, data)
        _accounts(self.engine, data, applications, extra, self.clock.now())
        forms = self.engine.current_forms()
        rng = random.Random(seed)
        self.work = []
        for number in range(1, applications + 1):
            porteur = Actor(f"porteur{number:05d}", frozenset({roles.PORTEUR}))
            key = self.engine.start(porteur, code)
            view = self.engine.task_views(key)[0]
            form = generate(forms[view.form], rng, self.clock.now().date())
            form.update(behaviours.decide(view.bpmn_id, view.data, rng, self.clock.now().date(),
                                          behaviours.draw_profile(rng)))
            self.work.append((porteur, key, view.ref, form))

    def complete(self, index: int, timed: bool) -> None:
        porteur, key, ref, form = self.work[index]
        began = time.perf_counter()
        self.engine.complete(porteur, key, ref, form)
        if timed:
            self.times.append((time.perf_counter() - began) * 1000)

    def report(self) -> dict:
        times = sorted(self.times)
        return {"case": self.label, "extra_accounts": self.extra, "synchronous": self.synchronous,
                "completions": len(times),
                "median_ms": round(statistics.median(times), 2),
                "p90_ms": round(times[int(len(times) * 0.9)], 2)}


def _accounts(engine, campaign: dict, porteurs: int, extra: int, now: datetime) -> None:
    """The campaign's people and ``extra`` more porteurs, written as ``dsdt simulate`` writes them."""
    try:
        from engine.simulation import campaign_people, create_accounts
    except ImportError:  # a tree from before issue 13: no user_role table, accounts are plain rows
        campaign_people, create_accounts = _old_people, _old_create
    people = campaign_people(campaign, porteurs)
    people.update({f"asso.extra.{n:05d}": ({"porteur"}, set()) for n in range(extra)})
    with engine.db.engine.begin() as connection:
        create_accounts(connection, people, now)


def _old_people(campaign: dict, porteurs: int) -> dict:
    people = {f"porteur{n:05d}": ({"porteur"}, set()) for n in range(1, porteurs + 1)}
    for epci in campaign["epci"]:
        people[f"technicien_commune.{epci}"] = ({"technicien_commune"}, {epci})
    return people


def _old_create(connection, people: dict, now: datetime) -> None:
    from sqlalchemy import insert

    from engine.persistence.models import User

    connection.execute(insert(User), [
        {"login": login, "full_name": "", "email": f"{login}@simulation.dsdt.example", "password_hash": "!",
         "roles": sorted(roles), "epci": sorted(scope), "active": True, "failed_logins": 0, "created_at": now}
        for login, (roles, scope) in people.items()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=int, default=10_000, help="extra porteur accounts of the second case")
    parser.add_argument("--applications", type=int, default=300, help="completions per case (after warm-up)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synchronous", default="FULL", help="DSDT_SQLITE_SYNCHRONOUS of the cases")
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree to measure (default: this one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    _import_tree(args.tree)
    total = args.applications + args.warmup
    with tempfile.TemporaryDirectory() as tmp:
        cases = [Case("0 extra", Path(tmp), 0, True, total, args.seed, args.synchronous),
                 Case(f"{args.extra} extra", Path(tmp), args.extra, True, total, args.seed, args.synchronous),
                 Case("0 extra, no notifier", Path(tmp), 0, False, total, args.seed, args.synchronous)]
        try:
            for index in range(total):
                order = cases if index % 2 == 0 else cases[::-1]
                for case in order:
                    case.complete(index, timed=index >= args.warmup)
        finally:
            for case in cases:
                case.engine.close()
    import engine

    reports = [case.report() for case in cases]
    result = {"tree": str(Path(engine.__file__).parent.parent), "cases": reports,
              "extra_over_none": round(reports[1]["median_ms"] / reports[0]["median_ms"], 3),
              "notifier_share": round(1 - reports[2]["median_ms"] / reports[0]["median_ms"], 3)}
    if args.json:
        print(json.dumps(result))
        return
    print(f"tree {result['tree']}, synchronous={reports[0]['synchronous']}")
    for report in reports:
        print(f"  {report['case']:24} median {report['median_ms']:7.2f} ms   p90 {report['p90_ms']:7.2f} ms"
              f"   ({report['completions']} completions)")
    print(f"  {args.extra} extra accounts / none: {result['extra_over_none']}; "
          f"notifier's share of a completion: {result['notifier_share']:.0%}")


if __name__ == "__main__":
    main()
