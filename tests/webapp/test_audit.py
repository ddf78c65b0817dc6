"""The auditors' pages: search and export, a dossier's history entry by entry, integrity.

These tests run on their own engine (SQLite, and PostgreSQL when configured) with its own clock,
so that walking dossiers through months of the 2014 campaign leaves the shared demo alone.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from engine import (
    Actor,
    Audit,
    AuditFilter,
    FixedClock,
    Invalid,
    WorkflowEngine,
    audit_api,
    campaigns_api,
    roles,
)
from engine.persistence.db import Database
from engine.persistence.models import JournalEntry
from tests.factories import OTHER_PORTEUR, PORTEUR, Walker
from webapp import create_app

from .conftest import ROOT, AuthActions

PASSWORD = "audit-password-2024"
START = datetime(2014, 10, 1, 8, 0, tzinfo=UTC)  # 10:00 in Paris (summer time)


@pytest.fixture
def world(database_url, script_engine):
    """An engine with the models and the 2014 campaign, its clock, accounts, and an app on it."""
    db = Database(database_url)
    db.upgrade()
    clock = FixedClock(START)
    engine = WorkflowEngine(db, clock, script_engine)
    engine.deploy_directory(ROOT, author="tests")
    engine.save_campaign(*campaigns_api.historical_campaign())
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": engine})
    accounts = app.extensions["dsdt"].accounts
    accounts.create("auditrice", PASSWORD, roles=[roles.AUDITOR], full_name="Anne Auditrice")
    accounts.create("responsable", PASSWORD, roles=[roles.PROCESS_OWNER])
    accounts.create("instructrice", PASSWORD, roles=[roles.INSTRUCTEUR])
    accounts.create(PORTEUR.login, PASSWORD, roles=[roles.PORTEUR], full_name="Association Alpha")
    yield engine, clock, app
    db.dispose()


def login(app, who: str = "auditrice"):
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login(who, PASSWORD).status_code == 302
    return client


def walked(engine, clock) -> dict[str, int]:
    """Four dossiers: one at the commune's opinion, one closed by a missed deadline (claimed, delegated and
    decided by a colleague on the way), one at the contact of another porteur, one in Artois."""
    walker = Walker(engine, clock)
    found = {"commune": walker.start()}
    walker.do(found["commune"], "contact", epci="CAB")
    late = found["late"] = walker.start()
    walker.do(late, "contact", epci="CAB", titre_projet="=HYPERLINK(\"http://x\")")
    walker.do(late, "avis_commune", avis="favorable")
    view = walker.view(late, "verification_contact")
    first = walker.actor_for(view, "CAB")
    colleague = Actor("collegue.verif", first.roles, first.epci)
    clock.advance(hours=1)
    engine.claim(first, late, view.ref)
    clock.advance(hours=1)
    engine.delegate(first, late, view.ref, colleague)
    clock.advance(hours=1)
    engine.complete(colleague, late, view.ref, walker.form(view, decision="adapte"))
    clock.set(datetime(2014, 12, 1, 23, 0, tzinfo=UTC))  # midnight in Paris: the fiche deadline passes
    assert engine.fire_due_timers() == 1
    clock.set(datetime(2015, 1, 10, 9, 0, tzinfo=UTC))
    found["other"] = walker.start(OTHER_PORTEUR)
    found["artois"] = walker.start(PORTEUR)
    walker.do(found["artois"], "contact", epci="CAAC")
    return found


# -- search -------------------------------------------------------------------------------------------


def test_search_filters_each_criterion(world):
    engine, clock, _ = world
    ids = walked(engine, clock)
    audit = Audit(engine)

    def found(**criteria) -> set[int]:
        rows, total = audit.search(AuditFilter(**criteria))
        assert total == len(rows)
        return {row.id for row in rows}

    everything = set(ids.values())
    assert found() == everything
    ref = engine.instance(ids["late"]).ref
    assert found(ref=ref[-3:].lower()) == {ids["late"]}
    assert found(porteur=OTHER_PORTEUR.login) == {ids["other"]}
    assert found(epci="CAAC") == {ids["artois"]}
    assert found(campaign="DSDT-2014") == everything and found(campaign="nope") == set()
    assert found(step="avis_commune") == {ids["commune"], ids["artois"]}
    assert found(step="contact") == {ids["other"]}
    assert found(outcome="hors_delai") == {ids["late"]}
    assert found(outcome=audit_api.RUNNING) == everything - {ids["late"]}
    assert found(version=1) == everything and found(version=2) == set()
    january = datetime(2015, 1, 1, tzinfo=UTC)
    assert found(since=january) == {ids["other"], ids["artois"]}
    assert found(before=january) == {ids["commune"], ids["late"]}
    assert found(date_field="updated", since=datetime(2014, 12, 1, 22, tzinfo=UTC), before=january) == {ids["late"]}
    with pytest.raises(Invalid):
        AuditFilter(date_field="anything")


def test_search_pages_and_the_page_shows_and_pages_results(world, monkeypatch):
    engine, clock, app = world
    ids = walked(engine, clock)
    rows, total = Audit(engine).search(AuditFilter(), page=2, per_page=3)
    assert total == 4 and [row.id for row in rows] == [max(ids.values())]
    assert Audit(engine).search(AuditFilter(), page=10**6, per_page=3) == ([], 4)

    monkeypatch.setattr("webapp.audit.PER_PAGE", 3)
    client = login(app)
    page = client.get("/audit/?epci=CAB").get_data(as_text=True)
    assert "2 dossiers" in page and "Page" not in page
    first = client.get("/audit/")
    assert first.status_code == 200
    text = first.get_data(as_text=True)
    assert "Page 1 sur 2" in text and "/audit/?page=2" in text
    second = client.get("/audit/?page=2").get_data(as_text=True)
    assert engine.instance(max(ids.values())).ref in second


def test_dates_are_days_in_paris_and_bad_input_is_named_and_kept(world):
    engine, clock, app = world
    ids = walked(engine, clock)
    client = login(app)
    # The deadline fired at 23:00 UTC on 1 December: 2 December in Paris.
    page = client.get("/audit/?dates=updated&du=2014-12-02&au=2014-12-02").get_data(as_text=True)
    assert engine.instance(ids["late"]).ref in page and "1 dossier" in page
    page = client.get("/audit/?dates=updated&du=2014-12-01&au=2014-12-01").get_data(as_text=True)
    assert "0 dossier" in page
    bad = client.get("/audit/?du=01/12/2014&porteur=asso.alpha")
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Date non valide" in text and 'value="asso.alpha"' in text and 'value="01/12/2014"' in text
    assert client.get("/audit/?du=2015-01-02&au=2015-01-01").status_code == 400
    assert client.get("/audit/?version=abc").status_code == 400


def test_export_writes_every_match_as_csv_and_refuses_beyond_its_limit(world, monkeypatch):
    engine, clock, app = world
    ids = walked(engine, clock)
    client = login(app)
    response = client.get("/audit/export.csv?epci=CAB")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Dossier" and len(rows) == 3
    late = next(row for row in rows if row[0] == engine.instance(ids["late"]).ref)
    assert late[1].startswith("'=")  # a title a spreadsheet would run as a formula stays text
    assert late[6] == "Hors délai" and late[7] == "1"
    assert late[9] == "2014-12-02T00:00:00+01:00"  # Paris time, with its offset

    with pytest.raises(Invalid) as refused:
        Audit(engine).export(AuditFilter(), limit=3)
    assert refused.value.code == "audit.export_too_large"
    monkeypatch.setattr("webapp.audit.EXPORT_LIMIT", 3)
    response = client.get("/audit/export.csv")
    assert response.status_code == 400
    assert "affinez la recherche" in response.get_data(as_text=True)


# -- history ------------------------------------------------------------------------------------------


def test_history_gives_person_role_time_step_data_and_changes(world):
    engine, clock, app = world
    ids = walked(engine, clock)
    history = Audit(engine).history(ids["late"])
    assert history.replay_problem is None and history.version == 1
    commands = [entry.command for entry in history.entries]
    assert commands == ["start", "complete", "complete", "claim", "delegate", "complete", "fire_timers"]
    start, contact = history.entries[0], history.entries[1]
    assert (start.actor, start.actor_name, start.role) == (PORTEUR.login, "Association Alpha", roles.PORTEUR)
    assert contact.step_name and contact.role == roles.PORTEUR and contact.submitted["epci"] == "CAB"
    change = {c.path: c for c in contact.changes}
    assert change["contact.epci"].added and change["contact.epci"].after == "CAB"
    claim, delegate, decided = history.entries[3:6]
    assert claim.submitted == {"login": claim.actor} and claim.role == decided.role
    assert delegate.submitted == {"login": "collegue.verif"} and decided.actor == "collegue.verif"
    assert decided.closed and decided.opened  # the verification closed, the fiche opened
    fired = history.entries[-1]
    assert fired.actor == "system" and fired.role is None and fired.timers_fired
    issue = {c.path: c for c in fired.changes}["issue"]
    assert (issue.before, issue.after) == (None, "hors_delai")
    assert not any(entry.administrative for entry in history.entries)

    page = login(app).get(f"/audit/dossiers/{ids['late']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Association Alpha (asso.alpha)" in text and "Porteur de projet" in text
    assert "2 octobre 2014 à 10:00:00" in text  # stored 08:00 UTC: 10:00 in Paris in summer
    assert "2 décembre 2014 à 00:00:00" in text  # stored 23:00 UTC: midnight in Paris in winter
    assert re.search(r"<th scope=\"row\">issue</th>\s*<td>—</td>\s*<td>hors_delai</td>", text)
    assert "Étape déléguée" in text and "collegue.verif" in text and "Échéance atteinte" in text


def test_history_of_an_altered_journal_lists_every_entry_and_says_where_changes_stop(world):
    engine, clock, app = world
    ids = walked(engine, clock)
    with engine.db.sessions.begin() as session:
        session.execute(update(JournalEntry).where(JournalEntry.instance_id == ids["commune"], JournalEntry.seq == 2)
                        .values(payload={"task": "nowhere.1", "data": {}}))
    history = Audit(engine).history(ids["commune"])
    assert len(history.entries) == 2 and "entry 2" in history.replay_problem
    assert history.entries[0].changes and all(entry.changes is None for entry in history.entries[1:])
    page = login(app).get(f"/audit/dossiers/{ids['commune']}").get_data(as_text=True)
    assert "n’a pas pu être rejoué" in page


def test_an_administrative_act_without_a_reason_is_marked():
    from engine.history import ADMINISTRATIVE

    assert {"migrate", "reassign", "correct_data"} <= ADMINISTRATIVE
    from engine import HistoryEntry

    entry = HistoryEntry(1, START, "admin", None, None, "reassign", None, None, {}, None, True, 1)
    assert entry.reason_missing
    assert not HistoryEntry(1, START, "admin", None, None, "reassign", None, None, {}, "erreur", True, 1).reason_missing


# -- integrity ----------------------------------------------------------------------------------------


def tamper(engine, instance_id: int, seq: int) -> None:
    """Change one journal row's payload behind the engine's back, as someone with SQL access could."""
    with engine.db.sessions.begin() as session:
        row = session.query(JournalEntry).filter_by(instance_id=instance_id, seq=seq).one()
        payload = dict(row.payload)
        payload["data"] = {**payload["data"], "epci": "CAAC"}
        session.execute(update(JournalEntry).where(JournalEntry.id == row.id).values(payload=payload))


def test_integrity_of_one_dossier_names_the_altered_entry(world):
    engine, clock, app = world
    ids = walked(engine, clock)
    client = login(app)
    sound = client.get(f"/audit/dossiers/{ids['late']}/integrite").get_data(as_text=True)
    assert "Le dossier est intègre" in sound
    tamper(engine, ids["late"], 2)
    result = Audit(engine).verify_one(ids["late"])
    assert not result.chain_ok and result.entry == 2
    page = client.get(f"/audit/dossiers/{ids['late']}/integrite").get_data(as_text=True)
    assert "pas intègre" in page and "entrée n° 2" in page and "#entree-2" in page
    ref = engine.instance(ids["late"]).ref
    found = client.get(f"/audit/integrite?dossier={ref}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/audit/dossiers/{ids['late']}/integrite")
    assert client.get("/audit/integrite?dossier=NOPE-1").status_code == 404


def test_integrity_of_all_runs_in_batches_with_progress_and_names_the_broken_one(world, monkeypatch):
    engine, clock, app = world
    ids = walked(engine, clock)
    tamper(engine, ids["late"], 2)
    monkeypatch.setattr("webapp.audit.BATCH", 3)
    client = login(app)
    first = client.get("/audit/integrite/tous").get_data(as_text=True)
    assert "3 dossiers vérifiés sur 4, 1 en cause" in first and 'value="3"' in first
    assert engine.instance(ids["late"]).ref in first and "entrée n° 2" in first
    link = re.search(r'href="(/audit/integrite/tous\?[^"]+)">Continuer avec le lot suivant', first).group(1)
    last = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "4 dossiers vérifiés sur 4, 1 en cause" in last and "Vérification terminée" in last
    assert engine.instance(ids["late"]).ref in last  # carried from the first batch
    auto = client.get("/audit/integrite/tous?auto=1").get_data(as_text=True)
    assert 'http-equiv="refresh"' in auto and "Mettre en pause" in auto


# -- who reads these pages ----------------------------------------------------------------------------


def test_auditors_land_on_the_audit_and_other_overseers_may_use_it(world):
    engine, clock, app = world
    client = app.test_client()
    response = AuthActions(client).login("auditrice", PASSWORD)
    assert client.get(response.headers["Location"]).headers["Location"].endswith("/audit/")
    assert "Audit" in client.get("/audit/").get_data(as_text=True)
    assert login(app, "responsable").get("/audit/").status_code == 200
    assert login(app, "instructrice").get("/audit/").status_code == 403
    assert login(app, PORTEUR.login).get("/audit/integrite").status_code == 403


def test_the_engine_refuses_every_command_to_someone_who_only_audits(world):
    from engine import Forbidden

    engine, clock, _ = world
    walker = Walker(engine, clock)
    iid = walker.start()
    view = walker.view(iid, "contact")
    auditor = Actor("auditrice", frozenset({roles.AUDITOR}))
    before = engine.instance(iid).journal_seq
    for command in (lambda: engine.claim(auditor, iid, view.ref), lambda: engine.unclaim(auditor, iid, view.ref),
                    lambda: engine.complete(auditor, iid, view.ref, walker.form(view)),
                    lambda: engine.withdraw(auditor, iid, "Pour voir")):
        with pytest.raises(Forbidden) as refused:
            command()
        assert refused.value.code == "role.read_only"
    assert engine.instance(iid).journal_seq == before
