"""Where a deadline-day submission spends its time: cProfile of logins and of "dossier" submissions
with 4 attachments, in-process (Flask's test client) on a fresh PostgreSQL database.

    .venv/bin/python benchmarks/profile_submission.py --database postgresql+psycopg://postgres@127.0.0.1/postgres \\
        [--submissions 20] [--top 30]

Prints the functions of most cumulative time for the logins, then for the submissions, and the
share of the parts the brief names (form parse, attachments, the command, notifications,
template rendering, argon2).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import deadline_setup as setup  # noqa: E402
from deadline_day import CSRF, HIDDEN, PIECES, pdf  # noqa: E402

#: (part, a function whose cumulative time is that part's)
PARTS = [
    ("argon2 (password check)", "argon2/_password_hasher.py", "verify"),
    ("form parse (schema_forms)", "schema_forms/parse.py", "parse_form"),
    ("attachments (hash + store)", "engine/attachments.py", "store"),
    ("attachments (hash + store)", "engine/attachments.py", "store_all"),
    ("argon2 (password check)", "engine/accounts.py", "_verify"),  # the pool's thread: cProfile sees the wait
    ("the command (engine.complete)", "engine/service.py", "complete"),
    ("notifications", "engine/notifications_store.py", None),
    ("template rendering", "flask/templating.py", "render_template"),
    ("multipart parse (werkzeug)", "werkzeug/formparser.py", "parse"),
]


def part_times(stats: pstats.Stats) -> dict[str, float]:
    found = {}
    for (path, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for label, where, function in PARTS:
            if path.endswith(where) and (function is None or name == function):
                found[label] = max(found.get(label, 0.0), cumulative)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL server URL")
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    url = setup.create_database(args.database)
    try:
        setup.migrate(url)
        made = setup.prepare(url, args.submissions, log=lambda m: print(m, file=sys.stderr))
        from webapp import create_app  # noqa: TID251 - profiles the web app itself

        app = create_app({"DSDT_DATABASE_URL": url, "SECRET_KEY": "profile", "DSDT_SCRIPT_WORKERS": 1})
        fields = setup.form_fields(setup.dossier_form(seed=1))
        clients = []
        login_profile, submit_profile = cProfile.Profile(), cProfile.Profile()
        started = time.perf_counter()
        for login, (instance_id, ref) in sorted(made.items()):
            client = app.test_client()
            token = CSRF.search(client.get("/connexion").get_data(as_text=True)).group(1)
            login_profile.enable()
            answer = client.post("/connexion", data={"csrf_token": token, "login": login, "password": setup.PASSWORD})
            login_profile.disable()
            assert answer.status_code == 302, answer.status_code
            clients.append((client, instance_id, ref))
        logins_s = time.perf_counter() - started
        started = time.perf_counter()
        for n, (client, instance_id, ref) in enumerate(clients):
            task_url = f"/dossiers/{instance_id}/etape/{ref}"
            hidden = HIDDEN.findall(client.get(task_url).get_data(as_text=True))
            data = {}
            for name, value in [*hidden, *fields, ("action", "valider")]:
                data.setdefault(name, []).append(value)
            for name in PIECES:
                data[f"f.pieces.{name}"] = (io.BytesIO(pdf(n, name, 200)), f"{name}.pdf", "application/pdf")
            submit_profile.enable()
            answer = client.post(task_url, data=data, content_type="multipart/form-data")
            submit_profile.disable()
            if answer.status_code != 302:
                found = re.search(r'class="sf-error"[^>]*>(.*?)</div>', answer.get_data(as_text=True), re.S)
                raise SystemExit(f"submission refused ({answer.status_code}): {found and found.group(1)}")
        submissions_s = time.perf_counter() - started
        for title, profile, seconds in (("logins", login_profile, logins_s), ("submissions", submit_profile,
                                                                               submissions_s)):
            stats = pstats.Stats(profile)
            total = sum(entry[2] for entry in stats.stats.values())
            print(f"\n== {len(clients)} {title}: {seconds:.2f} s wall, {total:.2f} s profiled "
                  f"({total / len(clients) * 1000:.0f} ms each)")
            for label, cumulative in sorted(part_times(stats).items(), key=lambda kv: -kv[1]):
                print(f"  {label:32} {cumulative / len(clients) * 1000:8.1f} ms each  {cumulative / total:6.1%}")
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
    finally:
        setup.drop_database(args.database, url)


if __name__ == "__main__":
    main()
