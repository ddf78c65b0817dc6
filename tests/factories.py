"""Test helpers: actors of every role and a driver that walks an application step by step."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from datetime import timedelta

from engine import Actor, WorkflowEngine
from engine.deployments import DeploymentStore
from engine.simulation.fake_data import attach_sample, generate

CAMPAIGN = "DSDT-2014"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PORTEUR = Actor("asso.alpha", frozenset({"porteur"}))
OTHER_PORTEUR = Actor("asso.beta", frozenset({"porteur"}))
INSTRUCTEUR = Actor("instructeur.region", frozenset({"instructeur"}))
CONVENTIONS = Actor("conventions.region", frozenset({"service_conventions"}))


def with_contract(files: dict[str, bytes], main_process: str = "dsdt_candidature") -> dict[str, bytes]:
    """``files`` of a test model plus the ``processes/contract.json`` every deployment declares:
    the DSDT start data and outcome fields, the user tasks of porteur lanes as porteur steps, no
    jury, no withdrawal (a test model's own contract, if it has one, is kept)."""
    if "processes/contract.json" in files:
        return files
    porteur_steps = set()
    for path, content in files.items():
        if path.endswith(".bpmn"):
            root = ET.fromstring(content)
            tasks = {el.get("id") for el in root.iter(f"{{{BPMN}}}userTask")}
            for lane in root.iter(f"{{{BPMN}}}lane"):
                if lane.get("name") == "Porteur de projet":
                    porteur_steps |= {ref.text.strip() for ref in lane.iter(f"{{{BPMN}}}flowNodeRef")} & tasks
    contract = {
        "main_process": main_process,
        "start_data": {"porteur": "porteur", "reference": "dossier_ref", "campaign": "campagne",
                       "initial": {"issue": None, "motif_fin": None}},
        "fields": {"title": None, "epci": None, "outcome": "issue", "reason": "motif_fin", "jury_type": None},
        "porteur_steps": sorted(porteur_steps),
        "jury": None,
        "withdrawal": None,
    }
    return {**files, "processes/contract.json": json.dumps(contract).encode()}


def technicien(role: str, epci: str) -> Actor:
    return Actor(f"{role}.{epci.lower()}", frozenset({role}), frozenset({epci}))


#: how a scenario's engine loads a dossier before each command: ``warm`` keeps this process's
#: caches (production's fast path); ``state`` stores the state after every command and restores
#: it; ``journal`` never stores it and replays the whole journal. Both restore modes load onto
#: freshly parsed specs, as another web worker, a restarted server or the timer worker would.
RESTORE_MODES = ("warm", "state", "journal")
CHECKPOINT_EVERY = {"warm": 32, "state": 1, "journal": 10**9}


class ColdEngine(WorkflowEngine):
    """A :class:`WorkflowEngine` that loads every dossier as a fresh process would, before every command.

    Its own workflow cache and the process's parsed specs are dropped, so state kept only in
    memory (a cached workflow, connections SpiffWorkflow makes on the specs while running) cannot
    hide what a restore from the database loses. Nothing is cached after a command either, so a
    read (``data``, ``task_views``) after it loads the dossier from the database too. ``loads``
    counts those cold loads.
    """

    loads = 0

    def _remember(self, instance, state):
        pass  # never keep a workflow: the next command or read restores it from the database

    def _load(self, connection, instance):
        # Overrides the engine's one load path (commands, and reads on a cache miss).
        with self._cache_lock:
            self._cache.pop(instance.id, None)
        DeploymentStore.forget_parsed()
        self.loads += 1
        return super()._load(connection, instance)


def scenario_engine(db, clock, script_engine, mode: str) -> WorkflowEngine:
    """An engine for ``mode`` (one of :data:`RESTORE_MODES`)."""
    cls = WorkflowEngine if mode == "warm" else ColdEngine
    # warm: the replay-cost policy of EngineConfig's default as well, so verify checks stored states
    return cls(db, clock, script_engine, checkpoint_every=CHECKPOINT_EVERY[mode],
               checkpoint_replay_ms=0.0 if mode == "warm" else None)


class Walker:
    """Completes an application's steps with valid generated data plus the test's decisions."""

    def __init__(self, engine: WorkflowEngine, clock, seed: int = 0):
        self.engine = engine
        self.clock = clock
        self.forms = engine.current_forms()
        self.rng = random.Random(seed)

    def start(self, porteur: Actor = PORTEUR) -> int:
        self.porteur = porteur
        iid = self.engine.start(porteur, CAMPAIGN)
        attach_sample(self.engine.db, self.clock, iid, porteur.login)  # the file the generated forms name
        return iid

    def steps(self, iid: int) -> list[str]:
        return [view.bpmn_id for view in self.engine.task_views(iid)]

    def view(self, iid: int, bpmn_id: str):
        views = [view for view in self.engine.task_views(iid) if view.bpmn_id == bpmn_id]
        assert views, f"{bpmn_id} is not open; open steps: {self.steps(iid)}"
        return views[0]

    def actor_for(self, view, epci: str | None) -> Actor:
        if view.role == "porteur":
            return self.porteur
        if view.assignee:
            return Actor(view.assignee, frozenset({view.role}))
        if view.role in ("technicien_commune", "technicien_epci"):
            return technicien(view.role, epci)
        return Actor(f"{view.role}.region", frozenset({view.role}))

    def form(self, view, **decisions) -> dict:
        data = generate(self.forms[view.form], self.rng, self.clock.now().date(), view.data)
        data.update(decisions)
        return data

    def do(self, iid: int, bpmn_id: str, days: float = 1, **decisions) -> None:
        """Advance the clock by ``days`` then complete the open step ``bpmn_id``."""
        self.clock.advance(days=days)
        view = self.view(iid, bpmn_id)
        self.engine.complete(self.actor_for(view, view.data.get("epci")), iid, view.ref,
                             self.form(view, **decisions))

    def jury(self, iid: int, score: int = 4, conflicts: int = 0) -> None:
        """Every open jury examination: the first ``conflicts`` members declare a conflict."""
        self.clock.advance(days=1)
        views = [view for view in self.engine.task_views(iid) if view.bpmn_id.startswith("examen_")]
        assert views, f"no jury examination open; open steps: {self.steps(iid)}"
        for n, view in enumerate(views):
            self.evaluate(iid, view, score, conflict=n < conflicts)

    def evaluate(self, iid: int, view, score: int = 4, conflict: bool = False) -> None:
        """One jury member's examination ``view``: a conflict of interest, or ``score`` everywhere."""
        if conflict:
            decisions = {"conflit_interet": True}
        else:
            decisions = {"conflit_interet": False, "qualite_inventivite": score, "partenariat": score,
                         "mise_en_reseau": score, "gouvernance_evaluation": score}
        self.engine.complete(self.actor_for(view, None), iid, view.ref, self.form(view, **decisions))

    def through_contact(self, iid: int, epci: str = "CAB") -> None:
        self.do(iid, "contact", epci=epci)
        self.do(iid, "avis_commune", avis="favorable")
        self.do(iid, "verification_contact", decision="adapte")

    def through_fiche(self, iid: int) -> None:
        self.do(iid, "fiche")
        self.do(iid, "adequation_epci", decision="adequate")

    def through_dossier(self, iid: int) -> None:
        self.do(iid, "dossier")
        self.do(iid, "recevabilite", decision="recevable", mobilisation_habitants="reelle")

    def to_jury(self, iid: int, epci: str = "CAB") -> None:
        """Contact, fiche and dossier accepted: the jury examination of ``epci``'s dossier is open."""
        self.through_contact(iid, epci=epci)
        self.through_fiche(iid)
        self.through_dossier(iid)

    def favourable_opinion(self, iid: int, amount: float = 20000,
                           motivation: str = "Projet solide et partenarial.") -> None:
        """The jury president confirms a favourable opinion."""
        self.do(iid, "confirmation_president", avis_final="favorable", motivation=motivation,
                montant_propose=amount)

    def through_decision_and_convention(self, iid: int) -> None:
        self.do(iid, "commission_permanente", decision="accorde", montant_vote=20000)
        self.do(iid, "redaction_convention")
        self.do(iid, "signature_porteur", accepte=True)
        self.do(iid, "signature_region")
        self.do(iid, "notification_convention")

    def response_date(self, days: int) -> str:
        return (self.clock.now() + timedelta(days=days)).date().isoformat()

    def outcome(self, iid: int) -> tuple[str, str | None, str | None]:
        row = self.engine.instance(iid)
        return row.status, row.outcome, row.jury_type


def insert_copy_of_entry_2(engine, iid: int) -> None:
    """Tampering for the tests: a copy of journal entry 2 slipped in as entry 3, the later entries
    renumbered one by one from the end (so ``(instance, seq)`` stays unique)."""
    from engine import journal
    from engine.persistence.models import JournalEntry

    with engine.session() as session:
        rows = journal.entries(session, iid)
        for row in reversed(rows[2:]):
            row.seq += 1
            session.flush()
        copy = rows[1]
        session.add(JournalEntry(instance_id=iid, seq=3, command=copy.command, actor=copy.actor, at=copy.at,
                                 payload=copy.payload, state_hash=copy.state_hash, prev_hash=copy.entry_hash,
                                 entry_hash=copy.entry_hash))
        session.commit()
