"""Warm, cold and fresh-process completions along a dossier's life, on one store.

Several dossiers walk the happy path in step (:mod:`.walk`). At each task, every other dossier is
dropped from the engine's cache first (a *cold* load: its stored state, then the journal after
it); the others are *warm*. The first task of each of the 7 phases of one dossier (the start,
then contact, fiche, dossier, jury, decision, convention) runs in a new Python process instead
(:mod:`.fresh`): a *fresh* process's first command.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from pathlib import Path

from .. import campaigns_api
from ..simulation import campaign_people, create_accounts
from ..simulation.people import porteur_login
from .fresh import run_in_fresh_process
from .lifecycle import percentile
from .stores import START, build
from .walk import porteur_actor, walk

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("start", "contact", "fiche", "dossier", "jury", "decision", "convention")


def _median(values):
    return round(statistics.median(values), 3) if values else None


def along_lifecycle(url: str, synchronous: str, dossiers: int, fresh: bool = True, prepare=None,
                    profile: str | None = None) -> dict:
    """``profile``: a folder where each fresh process writes its command's cProfile statistics."""
    code, libelle, data = campaigns_api.historical_campaign()
    engine = build(url, synchronous, prepare)
    try:
        with engine.db.engine.begin() as connection:
            create_accounts(connection, campaign_people(data, dossiers), START)
        engine.deploy_directory(ROOT, author="bench")
        engine.save_campaign(code, libelle, data)
        forms = engine.current_forms()
        request = {"url": url, "synchronous": synchronous, "campaign": code}
        if profile:
            request["profile"] = f"{profile}/{{phase}}.pstats"
        fresh_by_phase, fresh_cpu_by_phase = {}, {}
        if fresh:
            porteur = porteur_actor(porteur_login(1))
            report = run_in_fresh_process(
                {**_for(request, "start"), "command": "start", "now": engine.clock.now().isoformat(),
                 "login": porteur.login, "roles": sorted(porteur.roles), "scope": []})
            fresh_by_phase["start"], fresh_cpu_by_phase["start"] = report["first_command_ms"], report[
                "first_command_cpu_ms"]
            keys = [_last_instance(engine)]
        else:
            keys = []
        keys += [engine.start(porteur_actor(porteur_login(n)), code) for n in range(len(keys) + 1, dossiers + 1)]
        walks = [walk(engine, key, porteur_login(n), forms, seed=n) for n, key in enumerate(keys, start=1)]
        by_task: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        cpu_by_kind: dict[str, list[float]] = defaultdict(list)
        for task in range(1, 60):
            moved = False
            for index, steps in enumerate(walks):
                step = next(steps, None)
                if step is None:
                    continue
                moved = True
                if fresh and index == 0 and step.phase not in fresh_by_phase:
                    report = run_in_fresh_process({
                        **_for(request, step.phase), "command": "complete", "now": engine.clock.now().isoformat(),
                        "login": step.actor.login, "roles": sorted(step.actor.roles),
                        "scope": sorted(step.actor.epci), "instance_id": step.instance_id,
                        "task_ref": step.task_ref, "data": step.data})
                    fresh_by_phase[step.phase] = report["first_command_ms"]
                    fresh_cpu_by_phase[step.phase] = report["first_command_cpu_ms"]
                    continue
                kind = "cold" if (index + task) % 2 == 0 else "warm"
                if kind == "cold":
                    with engine._cache_lock:
                        engine._cache.pop(step.instance_id, None)
                began, cpu = time.perf_counter(), time.process_time()
                engine.complete(step.actor, step.instance_id, step.task_ref, step.data)
                by_task[task][kind].append((time.perf_counter() - began) * 1000)
                cpu_by_kind[kind].append((time.process_time() - cpu) * 1000)
            if not moved:
                break
        warm = [value for kinds in by_task.values() for value in kinds["warm"]]
        cold = [value for kinds in by_task.values() for value in kinds["cold"]]
        result = {
            "dossiers": dossiers,
            "warm_completion_ms": {"p50": _median(warm), "p95": percentile(warm, 0.95), "count": len(warm)},
            "cold_completion_ms": {"p50": _median(cold), "p95": percentile(cold, 0.95), "count": len(cold)},
            # CPU time of this process (the wall time above includes waiting for a CPU on a loaded machine)
            "warm_completion_cpu_ms": {"p50": _median(cpu_by_kind["warm"])},
            "cold_completion_cpu_ms": {"p50": _median(cpu_by_kind["cold"])},
            "cold_completion_ms_by_task": {str(task): _median(kinds["cold"]) for task, kinds in
                                           sorted(by_task.items())},
            "warm_completion_ms_by_task": {str(task): _median(kinds["warm"]) for task, kinds in
                                           sorted(by_task.items())},
        }
        if fresh:
            result["fresh_process_first_command_ms_by_phase"] = {phase: fresh_by_phase.get(phase) for phase in PHASES}
            values = [value for value in fresh_by_phase.values() if value is not None]
            result["fresh_process_first_command_ms"] = {"p50": _median(values), "max": round(max(values), 3)}
            result["fresh_process_first_command_cpu_ms_by_phase"] = {phase: fresh_cpu_by_phase.get(phase)
                                                                     for phase in PHASES}
            values = [value for value in fresh_cpu_by_phase.values() if value is not None]
            result["fresh_process_first_command_cpu_ms"] = {"p50": _median(values), "max": round(max(values), 3)}
        return result
    finally:
        engine.close()


def _for(request: dict, phase: str) -> dict:
    return {**request, "profile": request["profile"].format(phase=phase)} if "profile" in request else request


def _last_instance(engine) -> int:
    from sqlalchemy import func, select

    from ..persistence.models import Instance

    with engine.db.engine.connect() as connection:
        return connection.execute(select(func.max(Instance.id))).scalar_one()
