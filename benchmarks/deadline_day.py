"""Deadline day: N porteurs log in and submit their dossier with 4 attachments, over HTTP, against
the production setup on PostgreSQL.

    .venv/bin/python benchmarks/deadline_day.py --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --porteurs 200 --seconds 60 [--workers 2 --threads 8] [--json]

1. A new database on that server; ``dsdt migrate`` (subprocess); the models deployed, the demo
   staff, an open campaign and N porteurs, each with a dossier at its "dossier" step
   (``deadline_setup.py``, through the real engine).
2. ``gunicorn webapp.wsgi:app`` (gthread workers), started here, ``/readyz`` awaited.
3. One client thread per porteur, started on an even schedule over ``--seconds`` (open loop: a slow
   server does not slow the arrivals); with ``--logged-in`` every porteur logs in first, untimed
   against the schedule, so that the submissions alone run at the rate. Each, like a browser with
   its cookies: ``GET /connexion`` (CSRF token), ``POST /connexion`` (following the redirect to
   its applications), ``GET`` the task page (CSRF token, dossier version), ``POST`` the form with 4
   PDF attachments (``--attachment-kb`` each, different per porteur), which must answer a redirect.
4. Reports errors, p50/p95/p99 of each request kind, submissions per second (submissions done over
   the time from the first arrival to the last answer), and checks in the journal that each
   submission is there exactly once. The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import deadline_setup as setup  # noqa: E402

ROOT = setup.ROOT
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PIECES = ("statuts", "rib", "comptes", "rapport_activite")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, workers: int, threads: int, log_path: Path) -> subprocess.Popen:
    env = {**setup.tree_env(), "DSDT_DATABASE_URL": url, "DSDT_SECRET_KEY": secrets.token_hex(32),
           "DSDT_LOG_FORMAT": "json", "DSDT_SCRIPT_WORKERS": "1"}
    command = [str(Path(sys.executable).parent / "gunicorn"), "-k", "gthread", "-w", str(workers),
               "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--timeout", "120", "webapp.wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start (exit {server.returncode}); see {log_path}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass  # not listening yet, or busy booting
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError(f"gunicorn not ready after 90 s; see {log_path}")


class Porteur:
    """One porteur's visit, timed request by request."""

    def __init__(self, base: str, login: str, instance_id: int, ref: str, fields, files):
        self.base, self.login, self.instance_id, self.ref = base, login, instance_id, ref
        self.fields, self.files = fields, files
        self.times: dict[str, float] = {}
        self.error: str | None = None
        self.submitted_at: float | None = None
        self.session: requests.Session | None = None

    def _timed(self, kind: str, method: str, path: str, session: requests.Session, **kwargs) -> requests.Response:
        started = time.perf_counter()
        try:
            response = session.request(method, self.base + path, timeout=120, **kwargs)
        except requests.RequestException as err:
            raise RuntimeError(f"{kind}: {type(err).__name__}: {err}") from None
        self.times[kind] = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{kind}: {response.status_code} at {response.url}")
        return response

    def log_in(self) -> None:
        """Open a session (kept for :meth:`visit`): the login page's CSRF token, then the login."""
        self.session = requests.Session()
        # A new connection per request: a kept-alive one that the server closed while this client
        # thread waited for the CPU would fail the next request (browsers retry those; we do not).
        self.session.headers["Connection"] = "close"
        page = self._timed("login_page", "GET", "/connexion", self.session).text
        token = CSRF.search(page).group(1)
        self._timed("login", "POST", "/connexion", self.session,
                    data={"csrf_token": token, "login": self.login, "password": setup.PASSWORD})

    def try_log_in(self) -> None:
        try:
            self.log_in()
        except Exception as err:  # counted and reported
            self.error = f"{type(err).__name__}: {err}"[:300]

    def visit(self, logged_in: bool = False) -> None:
        try:
            if not logged_in:
                self.log_in()
            with self.session as session:
                task_url = f"/dossiers/{self.instance_id}/etape/{self.ref}"
                page = self._timed("task_page", "GET", task_url, session).text
                hidden = [(name, value) for name, value in HIDDEN.findall(page)]
                data = [*hidden, *self.fields, ("action", "valider")]
                files = [(f"f.pieces.{name}", (f"{name}.pdf", content, "application/pdf"))
                         for name, content in zip(PIECES, self.files, strict=True)]
                answer = self._timed("submission", "POST", task_url, session, data=data, files=files)
                if not answer.history or answer.history[0].status_code != 302:
                    raise RuntimeError(f"submission not accepted (no redirect): {_first_error(answer.text)}")
                self.submitted_at = time.perf_counter()
        except Exception as err:  # counted and reported: one failure must not stop the others
            self.error = f"{type(err).__name__}: {err}"[:300]


def _first_error(page: str) -> str:
    found = re.search(r'class="sf-error"[^>]*>(.*?)</div>', page, re.S)
    return re.sub(r"\s+", " ", found.group(1)).strip()[:200] if found else page[:200]


def pdf(n: int, name: str, kb: int) -> bytes:
    """A PDF-looking file of ``kb`` KiB, different for every porteur and piece (no dedup by hash)."""
    head = f"%PDF-1.4\n% {name} du porteur {n}\n".encode()
    return head + os.urandom(max(0, kb * 1024 - len(head)))


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    cut = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else [ordered[0]] * 99
    return {"n": len(ordered), "p50_ms": round(cut[49] * 1000, 1), "p95_ms": round(cut[94] * 1000, 1),
            "p99_ms": round(cut[98] * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


def run(args) -> dict:
    url = setup.create_database(args.database)
    server = None
    logs = Path(tempfile.mkdtemp(prefix="deadline-day-"))
    try:
        began = time.perf_counter()
        setup.migrate(url)
        made = setup.prepare(url, args.porteurs, log=lambda m: print(m, file=sys.stderr))
        prepared_s = time.perf_counter() - began
        port = free_port()
        server = start_server(url, port, args.workers, args.threads, logs / "gunicorn.log")
        base = f"http://127.0.0.1:{port}"
        fields = setup.form_fields(setup.dossier_form(seed=1))
        everyone = visits = [
            Porteur(base, login, iid, ref, fields, [pdf(n, name, args.attachment_kb) for name in PIECES])
            for n, (login, (iid, ref)) in enumerate(sorted(made.items()))]
        if args.logged_in:  # the porteurs logged in earlier: only their submissions are timed against the rate
            with ThreadPoolExecutor(args.workers * args.threads) as pool:
                list(pool.map(Porteur.try_log_in, visits))
        everyone = visits
        visits = [v for v in visits if v.error is None]  # a failed login is counted, not submitted
        gap = args.seconds / max(1, len(visits))
        threads = []
        start = time.perf_counter()
        for n, visit in enumerate(visits):
            delay = start + n * gap - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            thread = threading.Thread(target=visit.visit, args=(args.logged_in,), name=visit.login)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        done = [v for v in visits if v.error is None]
        counts = setup.submissions_in_journal(url, {v.instance_id: v.ref for v in everyone})
        expected = {v.instance_id: 1 if v.error is None else None for v in everyone}
        wrong = {iid: n for iid, n in counts.items() if n > 1 or (expected[iid] == 1 and n != 1)}
        kinds = ("login_page", "login", "task_page", "submission")
        return {
            "porteurs": len(everyone), "seconds_offered": args.seconds, "logged_in_before": args.logged_in,
            "offered_per_s": round(len(everyone) / args.seconds, 2),
            "workers": args.workers, "threads": args.threads, "attachment_kb": args.attachment_kb,
            "prepare_s": round(prepared_s, 1), "wall_s": round(wall, 2),
            "submissions": len(done), "submissions_per_s": round(len(done) / wall, 2),
            "errors": len(everyone) - len(done),
            "error_samples": sorted({v.error for v in everyone if v.error})[:5],
            "latency": {kind: percentiles([v.times[kind] for v in everyone if kind in v.times]) for kind in kinds},
            "journal_exactly_once": not wrong, "journal_wrong": dict(list(wrong.items())[:10]),
            "server_log": str(logs / "gunicorn.log"),
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            setup.drop_database(args.database, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("DSDT_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (a database is created on it and dropped after)")
    parser.add_argument("--porteurs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0, help="arrivals spread evenly over this time")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--attachment-kb", type=int, default=200)
    parser.add_argument("--logged-in", action="store_true",
                        help="log every porteur in before the clock starts: time the submissions alone")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.database or not args.database.startswith("postgresql"):
        parser.error("--database (or DSDT_TEST_POSTGRES_URL) must name a PostgreSQL server")
    if not 1 <= args.porteurs <= 5000 or args.seconds <= 0:
        parser.error("--porteurs must be within 1..5000 and --seconds positive")
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['porteurs']} porteurs over {args.seconds:g} s ({result['offered_per_s']}/s offered), "
              f"gunicorn {args.workers}×{args.threads}: {result['submissions']} submitted, {result['errors']} errors, "
              f"{result['submissions_per_s']} submissions/s; journal exactly once: {result['journal_exactly_once']}")
        for kind, figures in result["latency"].items():
            print(f"  {kind:12} {figures}")
        for sample in result["error_samples"]:
            print(f"  error: {sample}")
    sys.exit(0 if result["errors"] == 0 and result["journal_exactly_once"] else 1)


if __name__ == "__main__":
    main()
