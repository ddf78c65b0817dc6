"""Costs against sizes: a warm completion with more accounts, inbox and completion with more open tasks.

Accounts: one engine per size on its own SQLite file, holding the campaign's people plus that many
porteur accounts with an address; they take turns completion by completion (a, b, c, c, b, a...)
so the load of a shared machine falls on all alike. Each completion is a porteur's ``contact``,
which opens the commune technicien's ``avis_commune``: a role task whose people the notifier
looks up.

Open tasks: one database grown size after size by engine commands only: applications started
(the porteur's ``contact`` is open), one in five moved on to the commune technicien's
``avis_commune``. At each size, the inbox of the commune technicien of one EPCI (its first page
and counts, as the inbox page reads them) and that technicien's warm completions are timed.
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from .. import campaigns_api
from ..commands import Actor
from ..inbox import InboxFilter
from ..roles import TECHNICIEN_COMMUNE
from ..simulation import behaviours, campaign_people, create_accounts
from ..simulation.fake_data import generate
from ..simulation.people import porteur_login
from .lifecycle import percentile
from .stores import START, build, sqlite_url
from .walk import porteur_actor

ROOT = Path(__file__).resolve().parents[2]
_PROFILE = behaviours.Profile(quality=1.0, late=False, withdraw_rate=0.0)


def _prepared(url: str, synchronous: str, people: dict, prepare=None):
    code, libelle, data = campaigns_api.historical_campaign()
    engine = build(url, synchronous, prepare)
    engine.deploy_directory(ROOT, author="bench")
    engine.save_campaign(code, libelle, data)
    with engine.db.engine.begin() as connection:
        create_accounts(connection, people, START)
    return engine, code


def _contact(engine, key: int, porteur: str, forms: dict, rng: random.Random, epci: str | None = None):
    view = engine.task_views(key)[0]
    form = generate(forms[view.form], rng, engine.clock.now().date())
    form.update(behaviours.decide(view.bpmn_id, view.data, rng, engine.clock.now().date(), _PROFILE))
    if epci:
        form["epci"] = epci
    return porteur_actor(porteur), key, view.ref, form


def accounts(folder: Path, sizes: tuple[int, ...], completions: int, warmup: int, synchronous: str,
             prepare=None) -> dict:
    _, _, data = campaigns_api.historical_campaign()
    total = completions + warmup
    cases = []
    try:
        for extra in sizes:
            people = campaign_people(data, total)
            people.update({f"asso.extra.{n:06d}": ({"porteur"}, set()) for n in range(extra)})
            engine, code = _prepared(sqlite_url(folder, f"accounts-{extra}"), synchronous, people, prepare)
            forms, rng = engine.current_forms(), random.Random(extra)
            work = [_contact(engine, engine.start(porteur_actor(porteur_login(n)), code), porteur_login(n), forms, rng)
                    for n in range(1, total + 1)]
            cases.append((extra, engine, work, []))
        for index in range(total):
            for _extra, engine, work, times in (cases if index % 2 == 0 else cases[::-1]):
                began = time.perf_counter()
                engine.complete(*work[index])
                if index >= warmup:
                    times.append((time.perf_counter() - began) * 1000)
    finally:
        for _, engine, _, _ in cases:
            engine.close()
    medians = {str(extra): round(statistics.median(times), 3) for extra, _, _, times in cases}
    base = medians[str(sizes[0])]
    return {"synchronous": synchronous, "completions": completions,
            "warm_completion_ms_by_accounts": medians,
            "ratio_vs_no_extra_accounts": {key: round(value / base, 3) for key, value in medians.items()}}


def open_tasks(folder: Path, sizes: tuple[int, ...], samples: int, synchronous: str, prepare=None) -> dict:
    """Inbox and completion at each size of ``open_task`` (engine-made rows only)."""
    _, _, data = campaigns_api.historical_campaign()
    epcis = sorted(data["epci"])
    url = sqlite_url(folder, "open-tasks")
    # Grown at NORMAL (seeding only: the rows are the same), measured at ``synchronous``.
    seeder, code = _prepared(url, "NORMAL", campaign_people(data, 0), prepare)
    rng, started, results = random.Random(3), 0, {}
    forms = seeder.current_forms()
    technicien = Actor(f"{TECHNICIEN_COMMUNE}.{epcis[0]}", frozenset({TECHNICIEN_COMMUNE}), frozenset({epcis[0]}))
    waiting: list[int] = []  # avis_commune tasks of that technicien, for the completions
    seconds_seeding = 0.0
    try:
        for size in sizes:
            began = time.perf_counter()
            while (missing := size - _open_count(seeder)) > 0:
                for _ in range(min(missing, 500)):  # each start opens one task; a contact done swaps it
                    started += 1
                    porteur = porteur_login(started)
                    key = seeder.start(porteur_actor(porteur), code)
                    if started % 5 == 0:
                        epci = epcis[(started // 5) % len(epcis)]
                        seeder.complete(*_contact(seeder, key, porteur, forms, rng, epci))
                        if epci == epcis[0]:
                            waiting.append(key)
            seconds_seeding += time.perf_counter() - began
            seeder.db.dispose()
            results[str(size)] = _measure(url, synchronous, prepare, technicien, waiting, samples, forms, rng)
            results[str(size)]["open_tasks"] = _open_count(seeder)
    finally:
        seeder.close()
    return {"synchronous": synchronous, "rows": "made by engine commands (starts, and one in five past contact)",
            "seeding_seconds": round(seconds_seeding, 1), "by_open_tasks": results}


def _open_count(engine) -> int:
    from sqlalchemy import text

    with engine.db.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM open_task")).scalar_one()


def _measure(url, synchronous, prepare, technicien, waiting, samples, forms, rng) -> dict:
    engine = build(url, synchronous, prepare)
    try:
        engine.open_tasks(technicien, InboxFilter())  # first query of the process: not timed
        inbox_times = []
        for _ in range(samples):
            began = time.perf_counter()
            page, total = engine.open_tasks(technicien, InboxFilter())
            engine.open_tasks(technicien, InboxFilter(mine_only=True))
            inbox_times.append((time.perf_counter() - began) * 1000)
        todo = [waiting.pop() for _ in range(min(samples + 1, len(waiting)))]
        completion_times = []
        for number, key in enumerate(todo):
            view = engine.task_views(key)[0]  # the task page's read: the completion is then warm
            form = generate(forms[view.form], rng, engine.clock.now().date())
            form.update(avis="favorable")
            began = time.perf_counter()
            engine.complete(technicien, key, view.ref, form)
            if number:  # the first one pays the process's first command
                completion_times.append((time.perf_counter() - began) * 1000)
        return {"visible_to_user": total,
                "inbox_ms": {"p50": round(statistics.median(inbox_times), 3), "p95": percentile(inbox_times, 0.95)},
                "completion_ms": {"p50": round(statistics.median(completion_times), 3) if completion_times else None,
                                  "p95": percentile(completion_times, 0.95)}}
    finally:
        engine.close()
