"""Inbox page and task completion latency over HTTP, on a database of N applications and M open tasks.

    .venv/bin/python benchmarks/web_bench.py --applications 10000 --open-tasks 100000 --requests 300 [--json]

1. The database is seeded once through the real engine (``benchmarks/seed.py``: the simulator for
   the historical campaign, ``engine.start`` + ``engine.complete`` for the open campaign) and cached
   under ``benchmarks/.cache/`` keyed by the parameters. Each run works on a copy of it.
2. The real app (``create_app`` with ``DSDT_DATABASE_URL`` on the copy) is served by waitress in a
   subprocess, so the client's timing loop does not share the server's interpreter.
3. Demo accounts (created by ``AccountService`` as ``dsdt run`` does) log in with a keep-alive
   ``http.client`` connection; each request's time is from sending it to having read the whole body.
4. ``EXPLAIN QUERY PLAN`` of every SQL statement the inbox issues, captured from the engine itself.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "demo-dsdt-2024"  # webapp.demo.DEMO_PASSWORD

#: (label, login, query string) of the inbox pages measured
INBOX_CASES = [
    ("instructeur, default", "instructeur1", {}),
    ("instructeur, filter EPCI=CAB", "instructeur1", {"epci": "CAB"}),
    ("instructeur, filter step=recevabilite", "instructeur1", {"etape": "recevabilite"}),
    ("technicien EPCI (CAB), default", "tech.epci.cab", {}),
    ("technicien EPCI (CAB), filter step", "tech.epci.cab", {"etape": "verification_contact"}),
    ("technicien commune (CAVM), default", "tech.commune.cavm", {}),
    ("jury member (regional + CAB), default", "jury.region.elu1", {}),
    ("instructeur, page 20", "instructeur1", {"page": "20"}),
]

#: (login, step, EPCI) of the completions measured: each on a different open task
COMPLETION_USERS = [
    ("tech.epci.cab", "verification_contact", "CAB"),
    ("tech.epci.caac", "verification_contact", "CAAC"),
    ("tech.epci.cavm", "verification_contact", "CAVM"),
]


# -- helpers ----------------------------------------------------------------------------------------


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    if not ordered:
        return {"count": 0}
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One keep-alive HTTP/1.1 connection with a cookie jar (enough for the session cookie)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | list | None = None) -> tuple[int, dict, str, float]:
        headers = {"Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        elapsed = (time.perf_counter() - began) * 1000
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), text, elapsed

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, form):
        return self.request("POST", path, form)


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page
    )
    if not found:
        raise RuntimeError("no CSRF token in the page")
    return found.group(1)


def login(port: int, user: str) -> Client:
    client = Client(port)
    _, _, page, _ = client.get("/connexion")
    status, _, _, _ = client.post("/connexion", {"login": user, "password": PASSWORD, "csrf_token": csrf_token(page)})
    if status != 302:
        raise RuntimeError(f"login of {user} failed: HTTP {status}")
    return client


# -- the database --------------------------------------------------------------------------------------


def cached_database(args) -> Path:
    from benchmarks_seed import seed_database  # noqa: PLC0415 - see _import_seed

    path = args.cache / f"dsdt-a{args.applications}-t{args.open_tasks}-s{args.seed}.sqlite"
    if not path.exists():
        print(f"Seeding {path} (once; reused by later runs) ...", file=sys.stderr)
        seed_database(path, args.applications, args.open_tasks, args.seed, args.workers, args.seed_minutes,
                      args.top_up_copies, log=lambda msg: print(msg, file=sys.stderr))
    return path


def _import_seed() -> None:
    """``benchmarks`` is not a package: import seed.py under a private name."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmarks_seed", HERE / "seed.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks_seed"] = module
    spec.loader.exec_module(module)


def database_facts(path: Path) -> dict:
    with sqlite3.connect(path) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "instances": one("SELECT count(*) FROM instance"),
            "instances_running": one("SELECT count(*) FROM instance WHERE status = 'running'"),
            "open_tasks": one("SELECT count(*) FROM open_task"),
            "open_tasks_by_role": dict(
                conn.execute("SELECT role, count(*) FROM open_task GROUP BY role ORDER BY 2 DESC")
            ),
            "journal_entries": one("SELECT count(*) FROM journal_entry"),
            "notifications": one("SELECT count(*) FROM notification"),
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "sqlite": sqlite3.sqlite_version,
        }


# -- query plans ---------------------------------------------------------------------------------------


def query_plans(url: str) -> list[dict]:
    """EXPLAIN QUERY PLAN of the statements ``engine.inbox.inbox`` runs for the measured cases."""
    from sqlalchemy import event

    from engine import InboxFilter, inbox
    from engine.accounts import AccountService
    from engine.clock import SystemClock
    from engine.persistence.db import Database

    db = Database(url)
    db.upgrade()
    accounts = AccountService(db, SystemClock())
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "open_task" in statement and not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    plans = []
    try:
        cases = [(label, user, q) for label, user, q in INBOX_CASES] + [
            ("instructeur, count of mine", "instructeur1", {"moi": "1"}),
        ]
        for label, user, query in cases:
            actor = accounts.get(user).actor
            flt = InboxFilter(
                step=query.get("etape"), epci=query.get("epci"), mine_only=query.get("moi") == "1",
                page=int(query.get("page", 1)), per_page=25,
            )
            captured.clear()
            with db.sessions() as session:
                inbox.inbox(session, actor, flt)
            with db.engine.connect() as conn:
                raw = conn.connection.driver_connection
                for statement, parameters in list(captured):
                    began = time.perf_counter()
                    raw.execute(statement, parameters).fetchall()
                    elapsed = (time.perf_counter() - began) * 1000
                    rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
                    plans.append({
                        "case": label,
                        "sql": " ".join(statement.split()),
                        "ms": round(elapsed, 2),
                        "plan": [row[-1] for row in rows],
                    })
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
        db.dispose()
    return plans


# -- the measured server ---------------------------------------------------------------------------------


def serve(database_url: str, port: int, threads: int) -> None:
    """Subprocess entry point: the real app on waitress."""
    import logging

    import waitress

    logging.basicConfig(level=logging.WARNING)
    os.environ["DSDT_DATABASE_URL"] = database_url
    os.environ.setdefault("DSDT_SECRET_KEY", "benchmark-secret")
    from webapp import create_app  # noqa: TID251 - the benchmark serves the web app

    app = create_app()
    print("ready", flush=True)
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def start_server(url: str, threads: int, tree: Path = ROOT) -> tuple[subprocess.Popen, int]:
    """Serve the app of source ``tree`` (this checkout, or a baseline export of it) on ``url``."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(tree / "benchmarks" / "web_bench.py"), "--serve", url, "--port", str(port),
         "--threads", str(threads)],
        stdout=subprocess.PIPE, text=True, cwd=tree,
    )
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError("the server did not start")
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def measure_inbox(ports: dict[str, int], requests: int, warmup: int) -> list[dict]:
    """Each case on every server, requests interleaved (a, b, a, b...) so they share the load."""
    results = []
    for label, user, query in INBOX_CASES:
        clients = {name: login(port, user) for name, port in ports.items()}
        path = "/taches/" + (f"?{urlencode(query)}" if query else "")
        samples: dict[str, list[float]] = {name: [] for name in ports}
        total = None
        for n in range(warmup + requests):
            order = list(clients) if n % 2 == 0 else list(reversed(clients))
            for name in order:
                status, _, page, elapsed = clients[name].get(path)
                if status != 200:
                    raise RuntimeError(f"{path} as {user} on {name}: HTTP {status}")
                if n >= warmup:
                    samples[name].append(elapsed)
                if total is None:
                    found = re.search(r"<p>([\d\s\u202f\xa0]+) tâches? —", page)
                    total = int(re.sub(r"\D", "", found.group(1))) if found else None
        results.append({
            "case": label, "user": user, "path": path, "tasks_listed": total,
            **{name: summary(values) for name, values in samples.items()},
        })
    return results


def completion_targets(path: Path, per_user: int) -> dict[str, list[tuple[int, str]]]:
    """Open, unclaimed tasks of each completing user (read from the projection before serving)."""
    targets = {}
    with sqlite3.connect(path) as conn:
        for login_, step, epci in COMPLETION_USERS:
            targets[login_] = conn.execute(
                "SELECT t.instance_id, t.task_ref FROM open_task t JOIN instance i ON i.id = t.instance_id "
                "JOIN campaign c ON c.code = i.campaign_code "
                "WHERE t.bpmn_id = ? AND t.epci = ? AND t.claimed_by IS NULL AND i.status = 'running' AND c.is_open "
                "AND t.task_ref NOT LIKE '%#copie-%' ORDER BY t.id LIMIT ?",
                (step, epci, per_user),
            ).fetchall()
    return targets


def field_named(page: str, key: str) -> str:
    for name in set(re.findall(r'name="([^"]+)"', page)):
        flat = re.sub(r"\[(\w+)\]", r".\1", name)
        if flat.endswith("." + key) and not flat.endswith(".current"):
            return name
    raise RuntimeError(f"no control for {key}")


def choice(page: str, value: str) -> str:
    candidates = [html.unescape(v) for v in re.findall(r'value="([^"]*)"', page)]
    return f'"{value}"' if f'"{value}"' in candidates else value


def complete_one(client: Client, instance_id: int, task_ref: str) -> tuple[float, float, bool]:
    """GET the task page (for its CSRF token and version), then POST the form: (get ms, post ms, ok)."""
    path = f"/dossiers/{instance_id}/etape/{task_ref}"
    status, _, page, get_ms = client.get(path)
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}")
    form = {
        "csrf_token": csrf_token(page),
        "version": re.search(r'name="version" value="(\d+)"', page).group(1),
        "action": "valider",
        field_named(page, "decision"): choice(page, "adapte"),
    }
    status, headers, _, post_ms = client.post(path, form)
    ok = status == 302 and headers.get("Location", "").split("?")[0].endswith("/taches/")
    return get_ms, post_ms, ok


def measure_completions(ports: dict[str, int], targets: dict, requests: int, warmup: int) -> dict:
    """Each server completes the same tasks (each its own copy of the database), interleaved."""
    clients = {name: {user: login(port, user) for user in targets} for name, port in ports.items()}
    queue = []
    for n in range(max(len(t) for t in targets.values())):
        for user, tasks in targets.items():
            if n < len(tasks):
                queue.append((user, *tasks[n]))
    if len(queue) < warmup + requests:
        raise RuntimeError(f"only {len(queue)} open tasks to complete; {warmup + requests} needed")
    gets = {name: [] for name in ports}
    posts = {name: [] for name in ports}
    failures = dict.fromkeys(ports, 0)
    for n, (user, instance_id, task_ref) in enumerate(queue[: warmup + requests]):
        order = list(ports) if n % 2 == 0 else list(reversed(ports))
        for name in order:
            get_ms, post_ms, ok = complete_one(clients[name][user], instance_id, task_ref)
            failures[name] += not ok
            if n >= warmup:
                gets[name].append(get_ms)
                if ok:
                    posts[name].append(post_ms)
    return {
        name: {"task_page_get": summary(gets[name]), "completion_post": summary(posts[name]),
               "failures": failures[name]}
        for name in ports
    }


def conditions() -> dict:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=10_000, help="historical applications (simulator)")
    parser.add_argument("--open-tasks", type=int, default=100_000, help="open_task rows to reach")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per case")
    parser.add_argument("--warmup", type=int, default=20, help="requests per case not measured")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="seeding processes")
    parser.add_argument("--seed-minutes", type=float, help="stop seeding workers after this long (see README)")
    parser.add_argument("--top-up-copies", action="store_true",
                        help="after --seed-minutes, top open_task up with copies of real rows (see README)")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    parser.add_argument("--database", type=Path, help="use this seeded SQLite file instead of the cache")
    parser.add_argument("--baseline", type=Path,
                        help="a second source tree (e.g. `git archive HEAD` unpacked) served side by side as 'before'")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plans-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.threads)
        return

    if args.plans_only:
        print(json.dumps(query_plans(f"sqlite:///{args.plans_only}"), ensure_ascii=False))
        return

    _import_seed()
    source = args.database or cached_database(args)
    args.cache.mkdir(parents=True, exist_ok=True)
    trees = {"after": ROOT}
    if args.baseline:
        trees = {"before": args.baseline.resolve(), "after": ROOT}
    works = {name: args.cache / f"run-{os.getpid()}-{name}.sqlite" for name in trees}
    procs = []
    try:
        facts = database_facts(source)
        plans = {}
        for name, tree in trees.items():
            shutil.copyfile(source, works[name])
            # EXPLAIN with that tree's code (this also upgrades the copy's schema, as its app would).
            out = subprocess.run(
                [sys.executable, str(tree / "benchmarks" / "web_bench.py"), "--plans-only", str(works[name])],
                cwd=tree, check=True, capture_output=True, text=True,
            ).stdout
            plans[name] = json.loads(out)
        per_user = (args.requests + args.warmup) // len(COMPLETION_USERS) + 1
        targets = completion_targets(works["after"], per_user)
        ports = {}
        for name, tree in trees.items():
            proc, ports[name] = start_server(f"sqlite:///{works[name]}", args.threads, tree)
            procs.append(proc)
        before = conditions()
        inbox_results = measure_inbox(ports, args.requests, args.warmup)
        completion = measure_completions(ports, targets, args.requests, args.warmup)
        result = {
            "parameters": {
                k: str(v) if isinstance(v, Path) else v
                for k, v in vars(args).items()
                if k not in ("serve", "port", "cache", "json", "plans_only")
            },
            "database": facts,
            "conditions": {"start": before, "end": conditions()},
            "inbox": inbox_results,
            "completion": completion,
            "plans": plans,
        }
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        for work in works.values():
            for suffix in ("", "-wal", "-shm"):
                Path(str(work) + suffix).unlink(missing_ok=True)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print_report(result, list(trees))


def print_report(result: dict, names: list[str]) -> None:
    facts, start = result["database"], result["conditions"]["start"]
    print(f"Database: {facts['instances']} instances, {facts['open_tasks']} open tasks ({facts['file_mb']} MB, "
          f"SQLite {facts['sqlite']}); {start['cpus']} CPUs, load {start['load_average_1_5_15']} -> "
          f"{result['conditions']['end']['load_average_1_5_15']}")
    print(f"{'case':48} {'tasks':>6} {'code':>6} {'n':>4} {'median':>7} {'p95':>7} {'max':>7}  (ms)")

    def line(label, listed, name, row):
        median, p95, top = (row.get(key, "-") for key in ("median_ms", "p95_ms", "max_ms"))  # none when count is 0
        print(f"{label:48} {listed:>6} {name:>6} {row['count']:>4} {median:>7} {p95:>7} {top:>7}")

    for row in result["inbox"]:
        for name in names:
            line("inbox: " + row["case"], row["tasks_listed"] or "", name, row[name])
    for key in ("task_page_get", "completion_post"):
        for name in names:
            line(key, "", name, result["completion"][name][key])
    print("completion failures: " + ", ".join(f"{n} {result['completion'][n]['failures']}" for n in names))
    for name in names:
        print(f"\nQuery plans of the inbox ({name}):")
        for plan in result["plans"][name]:
            print(f"- [{plan['case']}] {plan['ms']} ms: {plan['sql'][:150]}")
            for step in plan["plan"]:
                print(f"      {step}")


if __name__ == "__main__":
    main()
