"""The database of ``deadline_day.py``: a new PostgreSQL database, migrated with ``dsdt migrate``,
the models deployed, the demo staff, an open campaign, and N porteurs each with a dossier at its
"dossier" step (driven there through the real engine, as ``dsdt run``'s demo does).

Also the check after the run: each porteur's submission is in the journal exactly once.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "deadline-day-2014"
EPCI = ("CAB", "CAAC", "CAVM")


def create_database(server_url: str) -> str:
    """A new, empty database on the server of ``server_url``; returns its URL."""
    name = f"dsdt_deadline_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def tree_env() -> dict:
    """The environment of the processes started: the code of this tree (``ROOT``) first, so a copy
    of another commit (``git archive``) benchmarks its own code, not the installed one."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def migrate(url: str) -> None:
    """``dsdt migrate``, the production setup's first step (a subprocess, as an operator runs it)."""
    env = {**tree_env(), "DSDT_DATABASE_URL": url, "DSDT_LOG_FORMAT": "text"}
    subprocess.run([str(Path(sys.executable).parent / "dsdt"), "migrate"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def porteur_login(n: int) -> str:
    return f"porteur.bench{n:04d}"


def prepare(url: str, porteurs: int, log=print) -> dict[str, tuple[int, str]]:
    """Deploy, seed the staff and an open campaign, and bring one dossier per porteur to its
    "dossier" step; returns {login: (instance id, the step's task ref)}."""
    from engine import Actor, EngineConfig, WorkflowEngine
    from webapp import demo  # noqa: TID251 - the benchmark seeds as the web app's demo does
    from webapp.services import build  # noqa: TID251

    engine = WorkflowEngine.from_config(EngineConfig.from_env().with_database(url))
    try:
        services = build({}, engine)
        demo.seed(services, ROOT, datetime.now(UTC).date(), history=0, log=lambda *_: None)
        code = [c.code for c in services.queries.campaigns(open_only=True)][0]
        driver = demo.DemoDriver(services)

        def one(n: int) -> tuple[str, tuple[int, str]]:
            login = porteur_login(n)
            services.accounts.create(login, PASSWORD, roles=["porteur"], full_name=f"Porteur {n}",
                                     email=f"{login}@bench.dsdt.example")
            instance_id = engine.start(Actor(login, frozenset({"porteur"})), code)
            driver.advance(instance_id, login, "dossier", {"contact": {"epci": EPCI[n % len(EPCI)]}})
            refs = [view.ref for view in engine.task_views(instance_id) if view.bpmn_id == "dossier"]
            if not refs:
                raise RuntimeError(f"{login}'s dossier did not reach its 'dossier' step")
            return login, (instance_id, refs[0])

        with ThreadPoolExecutor(4) as pool:
            made = dict(pool.map(one, range(1, porteurs + 1)))
        log(f"prepared {len(made)} dossiers at their 'dossier' step")
        return made
    finally:
        engine.close()


def dossier_form(seed: int) -> dict:
    """The "dossier" step's data as a porteur types it (files apart), from the form's own schema."""
    from engine.simulation.fake_data import generate

    schema = _dossier_schema()
    data = generate(schema, random.Random(seed), datetime.now(UTC).date())
    data.pop("pieces", None)
    # A balanced budget: the model's rule (charges = produits) would send the dossier back otherwise.
    data["budget"] = [{"sens": "charge", "poste": "Personnel", "montant": 30000},
                      {"sens": "produit", "poste": "Subvention Région", "montant": 30000}]
    return data


_SCHEMA: dict = {}


def _dossier_schema() -> dict:
    import json

    if not _SCHEMA:
        _SCHEMA.update(json.loads((ROOT / "forms" / "dossier.schema.json").read_text()))
    return _SCHEMA


def form_fields(data, prefix: str = "f") -> list[tuple[str, str]]:
    """``data`` as the posted fields of the schema form (``f.budget.0.montant``...)."""
    if isinstance(data, dict):
        return [pair for key, value in data.items() for pair in form_fields(value, f"{prefix}.{key}")]
    if isinstance(data, list):
        return [pair for n, value in enumerate(data) for pair in form_fields(value, f"{prefix}.{n}")]
    if isinstance(data, bool):
        return [(prefix, "true")] if data else []
    if isinstance(data, float) and data.is_integer():
        return [(prefix, str(int(data)))]
    return [(prefix, str(data))]


def submissions_in_journal(url: str, task_refs: dict[int, str]) -> dict[int, int]:
    """For each instance, how many journal entries complete its "dossier" task (``task_refs``)."""
    db = create_engine(url)
    counts = dict.fromkeys(task_refs, 0)
    try:
        with db.connect() as conn:
            rows = conn.execute(text("SELECT instance_id, payload FROM journal_entry WHERE command = 'complete' "
                                     "AND instance_id = ANY(:ids)"), {"ids": list(counts)})
            for instance_id, payload in rows:
                if payload.get("task") == task_refs[instance_id]:
                    counts[instance_id] += 1
    finally:
        db.dispose()
    return counts
