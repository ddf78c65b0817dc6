"""Demo data for ``dsdt run``: campaigns, one account per role, applications at every stage.

Only on the embedded SQLite default, or when asked (:func:`should_seed`): every demo account
shares one published password.

The historical 2014-2015 campaign is run to its end by the simulator on a virtual clock (so
auditors have a real history); the open campaign gets a few applications driven by engine
commands, stopped at each step, so every inbox has something. Idempotent: nothing is redone
when the demo administrator already exists.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from engine import Actor, Conflict, FixedClock, WorkflowEngine, campaigns_api, juries, roles
from engine.simulation.fake_data import SAMPLE_PDF

from . import demo_conventions, demo_organisations
from .demo_juries import seed_jury_sessions
from .demo_stages import STAGES, Stage
from .services import Services

DEMO_PASSWORD = "demo-dsdt-2024"
EPCI_CODES = ("CAB", "CAAC", "CAVM")
#: a tiny valid PDF, used for every attachment of the demo dossiers (the simulated people's file)
DEMO_PDF = SAMPLE_PDF


class DemoRefused(Exception):
    """Demo data asked for on a database that may be a real one."""


def should_seed(database_url: str | None, demo: bool | None, force: bool = False) -> bool:
    """Whether ``dsdt run`` seeds the demo on ``database_url`` (None: the embedded SQLite default).

    The demo accounts, ``admin`` among them, share a password published in the README and printed
    at start: a production database must never hold them. So the demo comes by default only on
    the embedded default; elsewhere only when asked (``demo``), and on PostgreSQL, which means a
    shared server, only when forced too. :class:`DemoRefused` says what to do.
    """
    if demo is None:
        return database_url is None
    if demo and database_url and not database_url.startswith("sqlite") and not force:
        raise DemoRefused("the demo accounts (admin included) share a published password, and "
                          f"{database_url.split('://')[0]} is not the embedded SQLite: demo data is refused there. "
                          "Add --force only if this database is a throwaway demo.")
    return demo


def _porteur(login: str) -> Actor:
    return Actor(login, frozenset({roles.PORTEUR}))


def demo_users(engine: WorkflowEngine) -> list[tuple[str, str, list[str], list[str]]]:
    """(login, full name, roles, EPCI scope) of every demo account (the jury members: those
    with a seat in ``engine``'s database)."""
    users = [
        ("admin", "Administratrice DSDT", [roles.ADMIN], []),
        ("process.owner", "Responsable du processus", [roles.PROCESS_OWNER], []),
        ("auditeur", "Auditeur", [roles.AUDITOR], []),
        ("instructeur1", "Instructrice Région", [roles.INSTRUCTEUR], []),
        ("instructeur2", "Instructeur Région", [roles.INSTRUCTEUR], []),
        ("conventions1", "Service conventions", [roles.SERVICE_CONVENTIONS], []),
        ("conventions2", "Service conventions (2)", [roles.SERVICE_CONVENTIONS], []),
    ]
    for code in EPCI_CODES:
        low = code.lower()
        users.append((f"tech.commune.{low}", f"Technicien commune ({code})", [roles.TECHNICIEN_COMMUNE], [code]))
        users.append((f"tech.epci.{low}", f"Chef de projet EPCI ({code})", [roles.TECHNICIEN_EPCI], [code]))
    with engine.db.engine.connect() as connection:
        members = juries.people(connection)  # the jury seats are data (engine.juries)
    for login, (held, scope, name) in sorted(members.items()):
        users.append((login, name, sorted(held), sorted(scope)))
    for n in range(1, 5):
        users.append((f"porteur{n}", f"Association démo {n}", [roles.PORTEUR], []))
    return users


def ensure_campaigns(engine: WorkflowEngine, today: date, historical_open: bool = False) -> str:
    """Save the historical (closed once simulated) and the open campaign; return the open one's code."""
    code, libelle, data = campaigns_api.historical_campaign()
    engine.save_campaign(code, libelle, data, is_open=historical_open)
    code, libelle, data = campaigns_api.open_campaign(today)
    engine.save_campaign(code, libelle, data, is_open=True)
    return code


# -- driving applications --------------------------------------------------------------------------

#: decisions that keep an application on the happy path
HAPPY = {
    "avis_commune": {"avis": "favorable"},
    "verification_contact": {"decision": "adapte"},
    "adequation_epci": {"decision": "adequate"},
    "recevabilite": {"decision": "recevable", "mobilisation_habitants": "reelle"},
    "examen_territorial": {
        "conflit_interet": False,
        "qualite_inventivite": 4,
        "partenariat": 4,
        "mise_en_reseau": 3,
        "gouvernance_evaluation": 4,
    },
    "examen_regional": {
        "conflit_interet": False,
        "qualite_inventivite": 4,
        "partenariat": 3,
        "mise_en_reseau": 4,
        "gouvernance_evaluation": 4,
    },
    "confirmation_president": {"avis_final": "favorable"},
    "commission_permanente": {"decision": "accorde"},
    "signature_porteur": {"accepte": True},
}


class DemoDriver:
    """Completes the open steps of demo applications with generated data and chosen decisions."""

    def __init__(self, services: Services, seed: int = 7, engine: WorkflowEngine | None = None,
                 clock: FixedClock | None = None):
        from engine.simulation.fake_data import generate

        self.svc = services
        #: ``engine`` (default: the services') runs the commands; ``clock``, its clock, then moves a
        #: minute before each one, so a dossier's steps do not all share one instant
        self.engine = engine or services.engine
        self.clock = clock
        self.generate = generate
        self.rng = random.Random(seed)
        self.forms = self.engine.current_forms()

    def actor_for(self, view, dossier_epci: str | None, porteur: str) -> Actor:
        if view.role == roles.PORTEUR:
            return _porteur(porteur)
        if view.assignee:
            return self.svc.accounts.get(view.assignee).actor
        local = view.role not in roles.REGIONAL_ROLES
        for account in self.svc.accounts.with_role(view.role):
            if not local or dossier_epci in account.epci:
                return account.actor
        raise LookupError(f"no demo account for {view.role} in {dossier_epci}")

    def _attachments(self, value, instance_id: int, login: str):
        if isinstance(value, dict):
            return {k: self._attachments(v, instance_id, login) for k, v in value.items()}
        if isinstance(value, list):
            return [self._attachments(v, instance_id, login) for v in value]
        if isinstance(value, str) and value.startswith("sha256:"):
            return self.svc.attachments.store(instance_id, "piece-jointe.pdf", DEMO_PDF, login).ref
        return value

    def form_for(self, view, instance_id: int, login: str, overrides: dict) -> dict:
        today = self.engine.now().date()
        form = self.generate(self.forms[view.form], self.rng, today)
        if view.bpmn_id == "fiche":
            form["priorite"] = self.rng.choice(view.data["campagne"]["epci"][view.data["epci"]]["priorites"])
        if view.bpmn_id == "recevabilite":
            form["date_limite_reponse"] = (today + timedelta(days=15)).isoformat()
        for key in ("date_commission", "date_signature", "date_notification"):
            if key in form:
                form[key] = today.isoformat()
        if view.bpmn_id == "confirmation_president":
            form["montant_propose"] = float(view.data.get("fiche", {}).get("montant_demande") or 10_000)
        form.update(HAPPY.get(view.bpmn_id, {}))
        form.update(overrides.get(view.bpmn_id, {}))
        form = {key: value for key, value in form.items() if value is not None}  # None: leave the field out
        return self._attachments(form, instance_id, login)

    def advance(
        self, instance_id: int, porteur: str, stop_at: str | None, overrides: dict | None = None, limit: int = 40,
        after: str | None = None,
    ) -> None:
        """Complete steps until one named ``stop_at`` is open (``None``: until the end), once ``after`` is done."""
        overrides = overrides or {}
        done: set[str] = set()
        for _ in range(limit):
            views = self.engine.task_views(instance_id)
            if not views or (any(view.bpmn_id == stop_at for view in views) and (after is None or after in done)):
                return
            view = views[0]
            epci = self.engine.instance(instance_id).epci
            actor = self.actor_for(view, epci, porteur)
            if self.clock is not None:
                self.clock.advance(minutes=1)
            try:
                self.engine.complete(
                    actor, instance_id, view.ref, self.form_for(view, instance_id, actor.login, overrides)
                )
            except Conflict:
                return
            done.add(view.bpmn_id)


class BackdatedDriver(DemoDriver):
    """A :class:`DemoDriver` whose commands run on a clock of their own, on the services' database
    and sandbox pool: what it drives happened in the past (:meth:`drive` sets when)."""

    def __init__(self, services: Services, seed: int = 7):
        clock = FixedClock(services.engine.now())
        engine = WorkflowEngine(services.engine.db, clock, services.engine.script_engine,
                                notifier=services.engine.notifier)
        super().__init__(services, seed, engine=engine, clock=clock)

    def drive(self, campaign_code: str, stage: Stage, now: datetime) -> int:
        """Start an application of ``stage.porteur`` ``stage.age`` days before ``now`` and drive it to its stop."""
        self.clock.set(now - timedelta(days=stage.age, hours=2))
        instance_id = self.engine.start(_porteur(stage.porteur), campaign_code)
        overrides = {"contact": {"epci": stage.epci}, **stage.overrides}
        self.advance(instance_id, stage.porteur, stage.stop_at, overrides, after=stage.after)
        return instance_id


def seed_open_campaign(services: Services, campaign_code: str) -> int:
    """Drive the :data:`~webapp.demo_stages.STAGES`, each on a clock set back its age, and withdraw one more."""
    now = services.engine.now()
    driver = BackdatedDriver(services)
    # Jury sessions first (a failed quorum, an impossibility): they reach the dossiers waiting then.
    sent = seed_jury_sessions(driver, campaign_code, now)
    for stage in STAGES:
        driver.drive(campaign_code, stage, now)
    # One withdrawn application.
    instance_id = driver.drive(campaign_code, Stage("dossier", "CAB", "porteur1", 6), now)
    driver.engine.withdraw(_porteur("porteur1"), instance_id, "L’association n’a plus les moyens de porter le projet.")
    return len(STAGES) + 1 + len(sent)


def simulate_history(database_url: str, applications: int = 40) -> dict:
    """Run the historical campaign to its end on a virtual clock, in the same database."""
    from engine import EngineConfig
    from engine.simulation import DurableDriver, simulate

    code, _, _ = campaigns_api.historical_campaign()
    start = datetime(2014, 9, 1, 8, tzinfo=UTC)
    clock = FixedClock(start)
    engine = WorkflowEngine.from_config(EngineConfig(database_url), clock=clock)
    try:
        forms = engine.current_forms()
        return simulate(DurableDriver(engine, clock), forms, code, applications, 2014, start).as_dict()
    finally:
        engine.close()


def seed(services: Services, root: Path, today: date, history: int = 40, log=print) -> bool:
    """Set the demo up once; False when it was already there."""
    engine = services.engine
    engine.deploy_directory(root, author="dsdt-run", comment="Démonstration")
    if services.accounts.find("admin") is not None:
        ensure_campaigns(engine, today)
        return False
    open_code = ensure_campaigns(engine, today, historical_open=bool(history))
    for login, name, held, scope in demo_users(engine):
        services.accounts.create(
            login, DEMO_PASSWORD, roles=held, epci=scope, full_name=name, email=f"{login}@demo.dsdt.example"
        )
    demo_organisations.seed_organisations(services)  # "Mon association" for every demo porteur
    # The Région–EPCI conventions first: the dossiers of a campaign are offered their priorities.
    pilot_code = campaigns_api.historical_campaign()[0] if history else open_code
    conventions = demo_conventions.seed_conventions(engine, pilot_code, open_code)
    log(f"Conventions DSDT : {conventions} (les trois pilotes de 2013 signées, un renouvellement en négociation).")
    if history:
        result = simulate_history(engine.db.url, history)
        log(f"Campagne historique simulée : {result['applications']} candidatures, {result['final_states']}")
        ensure_campaigns(engine, today)  # the 2014-2015 call is closed
    count = seed_open_campaign(services, open_code)
    log(f"Campagne ouverte {open_code} : {count} candidatures de démonstration à toutes les étapes.")
    return True
