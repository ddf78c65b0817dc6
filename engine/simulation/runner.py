"""The simulation loop: applications arrive, people act after seeded delays, the worker fires timers.

One virtual clock drives everything. Events are (instant, application) pairs in a heap; at each
event the clock moves to that instant, the worker fires what is due, then whoever must act on the
application acts (or the porteur withdraws).
"""

from __future__ import annotations

import heapq
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..commands import Actor
from ..errors import Conflict
from ..roles import PORTEUR, REGIONAL_ROLES
from . import behaviours, sessions
from .fake_data import generate
from .people import porteur_login

WORKER_TICK = timedelta(hours=1)


@dataclass
class SimulationResult:
    applications: int
    final_states: dict[str, int]
    jury: dict[str, int]
    commands: int
    seconds: float
    unfinished: int = 0
    jury_sessions: dict | None = None

    def as_dict(self) -> dict:
        return {
            "applications": self.applications,
            "final_states": self.final_states,
            "jury": self.jury,
            "commands": self.commands,
            "seconds": round(self.seconds, 3),
            "commands_per_second": round(self.commands / self.seconds, 1) if self.seconds else None,
            "unfinished": self.unfinished,
            **({"jury_sessions": self.jury_sessions} if self.jury_sessions is not None else {}),
        }


def _actor(view, epci: str | None, porteur: str) -> Actor:
    if view.role == PORTEUR:
        return Actor(porteur, frozenset({PORTEUR}))
    login = view.assignee or f"{view.role}.{epci or 'region'}"
    scope = frozenset() if view.role in REGIONAL_ROLES else frozenset({epci})
    return Actor(login, frozenset({view.role}), scope)


def simulate(
    driver,
    forms: dict[str, dict],
    campaign_code: str,
    applications: int,
    seed: int,
    start: datetime,
    arrival_days: float = 80.0,
    jury_sessions: bool = False,
) -> SimulationResult:
    """Run ``applications`` applications through ``driver`` on its fixed clock.

    ``jury_sessions``: the territorial juries hold their sessions (:mod:`.sessions`): examiners
    wait for their session's opening, and each session takes a path of :data:`.sessions.PATHS`."""
    rng = random.Random(seed)
    began = time.perf_counter()
    events: list[tuple[datetime, int, int]] = []
    apps: dict[int, dict] = {}
    for n in range(applications):
        when = start + timedelta(days=rng.uniform(0, arrival_days))
        heapq.heappush(events, (when, n, -1))
    counter = applications
    plan = sessions.plan(driver.territorial_sessions(campaign_code), seed) if jury_sessions else []
    for index, (_code, day, _path) in enumerate(plan):
        counter += 1
        heapq.heappush(events, (sessions.opening(day), counter, -2 - index))
    held = sessions.report()
    opens = {code: sessions.opening(day) for code, day, _path in plan}
    next_tick = start
    while events:
        when, _, key = heapq.heappop(events)
        driver.clock.set(when)
        if when >= next_tick:
            # The timer worker's pass, once per virtual hour at most; in between, a command on a
            # dossier whose deadline passed fires that dossier's timers first anyway.
            driver.fire_due()
            next_tick = when + WORKER_TICK
        today = when.date()
        if key < -1:  # a territorial jury's session opens
            code, _day, path = plan[-2 - key]
            held[path]["to_regional"] += driver.hold_session(code, campaign_code, path)
            held[path]["sessions"] += 1
            continue
        if key == -1:  # a new porteur arrives
            porteur = porteur_login(len(apps) + 1)
            key = driver.start(Actor(porteur, frozenset({PORTEUR})), campaign_code)
            apps[key] = {"porteur": porteur, "profile": behaviours.draw_profile(rng)}
        app = apps[key]
        views = driver.tasks(key)
        if not views:
            continue
        profile = app["profile"]
        for view in views:
            actor = _actor(view, view.data.get("epci"), app["porteur"])
            try:
                if view.role == PORTEUR and rng.random() < profile.withdraw_rate:
                    driver.withdraw(actor, key, "Le projet ne peut plus être porté par l'association.")
                    break
                form = generate(forms[view.form], rng, today)
                form.update(behaviours.decide(view.bpmn_id, view.data, rng, today, profile))
                driver.complete(actor, key, view.ref, form)
            except Conflict:
                break  # a deadline closed the step meanwhile: the instance moved on
        after = driver.tasks(key)
        if after:
            counter += 1
            delay = behaviours.delay_days(after[0].bpmn_id, rng, profile, after[0].role)
            due = when + timedelta(days=delay)
            session = opens.get(after[0].data.get("jury_code")) if after[0].bpmn_id == "examen_territorial" else None
            if session is not None and due <= session:
                due = session + timedelta(hours=1 + delay)  # the jury examines at its session
            heapq.heappush(events, (due, counter, key))
    # Let the worker run past the last deadline so every timer has fired.
    driver.clock.set(driver.clock.now() + timedelta(days=120))
    driver.fire_due()
    finals: Counter = Counter()
    jury: Counter = Counter({"territorial": 0, "regional": 0})
    unfinished = 0
    for key in apps:
        finished, outcome, jury_type = driver.outcome(key)
        if not finished:
            unfinished += 1
            continue
        finals[outcome] += 1
        if jury_type:
            jury[jury_type] += 1
    return SimulationResult(
        applications,
        dict(sorted(finals.items())),
        dict(jury),
        driver.commands,
        time.perf_counter() - began,
        unfinished,
        held if jury_sessions else None,
    )
