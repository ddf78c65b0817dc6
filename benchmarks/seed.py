"""Seed a benchmark database through the real engine (no hand-inserted rows), cached by parameters.

Two kinds of work run in parallel worker processes on the same SQLite file (WAL):

* ``history``: the simulator runs ``--applications`` applications of the 2014-2015 campaign to
  their end on a virtual clock (``simulate(DurableDriver(engine, clock), ...)``), as ``dsdt run``
  does for its demo history;
* ``open``: applications of the open campaign (``campaigns_api.open_campaign(today)``) are started
  with ``engine.start`` and driven by ``engine.complete`` (the demo driver's happy-path data) to a
  step drawn at random, until the ``open_task`` projection holds ``--open-tasks`` rows.

Every row comes from engine commands: ``open_task`` is the engine's own projection. Two writers
on one SQLite file can meet ``database is locked`` (a deferred transaction whose snapshot went
stale); the worker then retries the command, which is safe because the failed transaction rolled
back whole.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import Actor, Conflict, EngineConfig, FixedClock, WorkflowEngine, campaigns_api, roles  # noqa: E402
from webapp import demo  # noqa: E402, TID251 - the benchmark drives the web app's demo data
from webapp.services import build  # noqa: E402, TID251

#: where open-campaign applications are left (stop step, weight); the jury step opens one task
#: per jury member (4 territorial, or 3 regional for Artois-Comm which has no territorial jury).
STOPS = [
    ("contact", 80),
    ("avis_commune", 9),
    ("verification_contact", 5),
    ("adequation_epci", 2),
    ("recevabilite", 3),
    ("examen_territorial", 1),
]


def retry(call, *args, attempts: int = 200, **kwargs):
    for n in range(attempts):
        try:
            return call(*args, **kwargs)
        except OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            time.sleep(0.005 * (1 + n % 10))
    raise RuntimeError("database stayed locked")


class RetryingDriver:
    """DurableDriver with each command retried on a lock collision with the other seeding worker."""

    def __init__(self, driver):
        self.driver = driver
        self.clock = driver.clock

    @property
    def commands(self):
        return self.driver.commands

    def start(self, *a):
        return retry(self.driver.start, *a)

    def tasks(self, *a):
        return retry(self.driver.tasks, *a)

    def complete(self, *a):
        return retry(self.driver.complete, *a)

    def withdraw(self, *a):
        return retry(self.driver.withdraw, *a)

    def fire_due(self):
        return retry(self.driver.fire_due)

    def outcome(self, *a):
        return retry(self.driver.outcome, *a)


def open_task_count(engine: WorkflowEngine) -> int:
    with engine.db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM open_task")).scalar_one()


def prepare(url: str, today: date, now: datetime) -> None:
    """Deploy the models, save both campaigns (2014 open while simulated), create the demo accounts."""
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(now))
    try:
        services = build({}, engine)
        engine.deploy_directory(ROOT, author="benchmark", comment="web benchmark")
        demo.ensure_campaigns(engine, today, historical_open=True)
        for login, name, held, scope in demo.demo_users(engine):
            if services.accounts.find(login) is None:
                services.accounts.create(
                    login, demo.DEMO_PASSWORD, roles=held, epci=scope, full_name=name,
                    email=f"{login}@demo.dsdt.example",
                )
    finally:
        engine.close()


def run_history(url: str, applications: int, seed: int) -> None:
    from engine.simulation import DurableDriver, simulate

    code, _, _ = campaigns_api.historical_campaign()
    start = datetime(2014, 9, 1, 8, tzinfo=UTC)
    clock = FixedClock(start)
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    try:
        build({}, engine)  # the stored notifier, as in the web app
        forms = engine.current_forms()
        result = simulate(RetryingDriver(DurableDriver(engine, clock)), forms, code, applications, seed, start)
        print(f"history: {result.as_dict()}", flush=True)
    finally:
        engine.close()


def run_open(url: str, target: int, seed: int, worker: int, now: datetime) -> None:
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(now))
    try:
        services = build({}, engine)
        code = campaigns_api.open_campaign(now.date())[0]
        driver = demo.DemoDriver(services, seed=seed * 100 + worker)
        rng = random.Random(seed * 1000 + worker)
        steps, weights = zip(*STOPS, strict=True)
        began, started = time.perf_counter(), 0
        while True:
            if started % 200 == 0:
                count = retry(open_task_count, engine)
                if count >= target:
                    break
                if started % 2000 == 0:
                    print(f"open worker {worker}: {started} started, open_task={count}, "
                          f"{time.perf_counter() - began:.0f} s", flush=True)
            porteur = f"porteur.b{worker}.{started:06d}"
            epci = rng.choice(demo.EPCI_CODES)
            stop = rng.choices(steps, weights)[0]
            if stop == "examen_territorial" and epci == "CAAC":
                stop = "examen_regional"
            actor = Actor(porteur, frozenset({roles.PORTEUR}))
            instance_id = retry(engine.start, actor, code)
            started += 1
            overrides = {"contact": {"epci": epci}}
            for _ in range(20):
                views = retry(engine.task_views, instance_id)
                if not views or any(view.bpmn_id == stop for view in views):
                    break
                view = views[0]
                who = driver.actor_for(view, engine.instance(instance_id).epci, porteur)
                form = driver.form_for(view, instance_id, who.login, overrides)
                try:
                    retry(engine.complete, who, instance_id, view.ref, form)
                except Conflict:
                    break
        print(f"open worker {worker}: done, {started} applications", flush=True)
    finally:
        engine.close()


def top_up(url: str, target: int, log=print) -> int:
    """Bring ``open_task`` to ``target`` rows with copies of real rows; returns how many were added.

    Used only when the machine is too loaded to produce every row through the engine in the time
    available (see README). Each copy repeats a real open-campaign row (role, EPCI, step, due date,
    assignee) with ``task_ref`` suffixed ``#copie-<round>-<original id>`` and ``instance_id`` pointing at a *completed*
    instance, so no command ever touches a copy and the engine's own rows stay exactly as produced;
    the copies only make the inbox index ranges as large as a 100,000-task database's would be.
    """
    import sqlite3

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        have = conn.execute("SELECT count(*) FROM open_task").fetchone()[0]
        missing = target - have
        if missing <= 0:
            return 0
        hosts = [row[0] for row in conn.execute("SELECT id FROM instance WHERE status = 'completed' ORDER BY id")]
        if not hosts:
            raise SystemExit("no completed instance to attach copies to")
        originals = conn.execute(
            "SELECT id FROM open_task WHERE campaign_code = (SELECT max(campaign_code) FROM open_task) ORDER BY id"
        ).fetchall()
        if not originals:
            raise SystemExit("no open_task row produced by the engine to copy")
        added, round_ = 0, 0
        while added < missing:
            round_ += 1
            batch = [row[0] for row in originals[: missing - added]]
            conn.executemany(
                "INSERT INTO open_task (instance_id, task_ref, bpmn_id, name, role, epci, campaign_code, assignee, "
                "claimed_by, due_at, created_at, dossier_ref, title) "
                "SELECT ?, task_ref || '#copie-' || ? || '-' || id, bpmn_id, name, role, epci, campaign_code, "
                "assignee, "
                "claimed_by, due_at, created_at, dossier_ref, title FROM open_task WHERE id = ?",
                [(hosts[(n + round_) % len(hosts)], round_, task_id) for n, task_id in enumerate(batch)],
            )
            added += len(batch)
        conn.commit()
    log(f"top-up: {added} copied open_task rows added to {have} produced by the engine")
    return added


def finalize(partial: Path, path: Path, target: int, copies: bool, log=print) -> None:
    """Close the 2014-2015 campaign, optionally top up, checkpoint, and publish the cache file."""
    url = f"sqlite:///{partial}"
    now = datetime.now(UTC).replace(microsecond=0)
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(now))
    try:
        code, libelle, data = campaigns_api.historical_campaign()
        engine.save_campaign(code, libelle, data, is_open=False)
    finally:
        engine.close()
    if copies:
        top_up(url, target, log)
    with sqlite3_connect(partial) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(path)


def sqlite3_connect(path: Path):
    import sqlite3

    return sqlite3.connect(path)


def seed_database(
    path: Path,
    applications: int,
    open_tasks: int,
    seed: int,
    workers: int = 2,
    minutes: float | None = None,
    copies: bool = False,
    log=print,
) -> None:
    """Build ``path`` (via a ``.partial`` file renamed at the end, so a cache file is always complete).

    ``minutes``: stop the workers after that long (an interrupted simulation leaves its instances
    where they were, as real engine state); ``copies``: then top up ``open_task`` (:func:`top_up`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{partial}"
    now = datetime.now(UTC).replace(microsecond=0)
    prepare(url, now.date(), now)
    began = time.perf_counter()
    me = [sys.executable, str(Path(__file__).resolve())]
    procs = []
    if applications:
        procs.append(subprocess.Popen([*me, "history", url, str(applications), str(seed)]))
    for worker in range(max(workers - (1 if applications else 0), 1)):
        procs.append(subprocess.Popen([*me, "open", url, str(open_tasks), str(seed), str(worker), now.isoformat()]))
    deadline = None if minutes is None else began + minutes * 60
    while any(proc.poll() is None for proc in procs):
        if deadline is not None and time.perf_counter() > deadline:
            log(f"time limit of {minutes} min reached: stopping the seeding workers")
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                proc.wait()
            break
        time.sleep(1)
    else:
        codes = [proc.returncode for proc in procs]
        if any(codes):
            raise SystemExit(f"seeding failed: exit codes {codes}")
    finalize(partial, path, open_tasks, copies, log)
    log(f"seeded {path} in {time.perf_counter() - began:.0f} s")


def main() -> None:
    kind = sys.argv[1]
    if kind == "history":
        run_history(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif kind == "open":
        run_open(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                 datetime.fromisoformat(sys.argv[6]))
    elif kind == "finalize":
        finalize(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] == ["--copies"])
    else:
        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("database", type=Path)
        parser.add_argument("--applications", type=int, default=10_000)
        parser.add_argument("--open-tasks", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--minutes", type=float, help="stop the seeding workers after this long")
        parser.add_argument("--copies", action="store_true", help="then top up open_task with copies")
        args = parser.parse_args()
        seed_database(args.database, args.applications, args.open_tasks, args.seed, args.workers,
                      args.minutes, args.copies)


if __name__ == "__main__":
    main()
