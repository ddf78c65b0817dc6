"""What each role sees of a dossier, on the pages and through the API (webapp.presenters).

One dossier is taken to the end through every kind of request addressed to its porteur (a
contact to rework with advice, a fiche to complete with a reason, missing documents with a
deadline) and every internal record (a commune's opinion, each jury member's scores and
comment, the president's reasons, an internal comment). At each step the person doing it, and
the porteur, read the task page, the dossier page, "mes candidatures" and the API; the tests
below check every capture.
"""

from __future__ import annotations

import json

import pytest

from engine import Actor, disclosure
from webapp import create_app, demo

from .conftest import AuthActions

PORTEUR = "porteur3"
AVIS = "AVIS-COMMUNE-INTERNE du technicien"
CONSEILS = "CONSEILS-AU-PORTEUR : précisez le public visé"
MOTIF_FICHE = "MOTIF-FICHE-A-COMPLETER : budget incomplet"
PIECES = "PIECES-MANQUANTES-LISTE : statuts signés"
MOTIVATION = "MOTIVATION-PRESIDENT-INTERNE du jury"
NOTIF_COMMENT = "COMMENTAIRE-NOTIFICATION-INTERNE"
INTERNAL = (AVIS, MOTIVATION, NOTIF_COMMENT, "Qualité et inventivité du projet", "qualite_inventivite",
            "evaluations")


def jury_comment(login: str) -> str:
    return f"COMMENTAIRE-JURY-{login}"


#: the dossier's path: (step, decisions); the jury examination is done by every member in turn
PLAN = [
    ("contact", {"epci": "CAB"}),
    ("avis_commune", {"avis": "reserve", "commentaire": AVIS}),
    ("verification_contact", {"decision": "a_retravailler", "conseils": CONSEILS}),
    ("contact", {"epci": "CAB"}),
    ("avis_commune", {"avis": "favorable", "commentaire": AVIS}),
    ("verification_contact", {"decision": "adapte"}),
    ("fiche", {}),
    ("adequation_epci", {"decision": "a_completer", "motif": MOTIF_FICHE}),
    ("fiche", {}),
    ("adequation_epci", {"decision": "adequate"}),
    ("dossier", {}),
    ("recevabilite", {"decision": "incomplet", "pieces_manquantes": PIECES}),
    ("complements", {}),
    ("recevabilite", {"decision": "recevable", "mobilisation_habitants": "reelle"}),
    ("examen_territorial", {}),
    ("confirmation_president", {"avis_final": "favorable", "motivation": MOTIVATION}),
    ("commission_permanente", {"decision": "accorde"}),
    ("redaction_convention", {}),
    ("signature_porteur", {"accepte": True}),
    ("signature_region", {}),
    ("notification_convention", {"commentaire": NOTIF_COMMENT}),
]


class Reader:
    """One person reading the dossier's pages and API."""

    def __init__(self, app, services, login: str):
        self.client = app.test_client()
        AuthActions(self.client).login(login)
        self.token = services.accounts.create_token(login, "presenter tests")
        self.login = login

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (self.login, path, response.status_code)
        return response.get_data(as_text=True)

    def api(self, path: str) -> str:
        response = self.client.get(f"/api{path}", headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, (self.login, path, response.status_code)
        return json.dumps(response.get_json(), ensure_ascii=False)  # searchable as text, accents included


@pytest.fixture(scope="module")
def walk(engine):
    """The dossier taken to the end: ``[(step, doer, {what: text})]`` of everything read on the way."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": engine})
    services = app.extensions["dsdt"]
    driver = demo.DemoDriver(services, seed=3)
    code = services.queries.campaigns(open_only=True)[0].code
    iid = services.engine.start(Actor(PORTEUR, frozenset({"porteur"})), code)
    readers: dict[str, Reader] = {}

    def reader(login: str) -> Reader:
        if login not in readers:
            readers[login] = Reader(app, services, login)
        return readers[login]

    captures = []

    def read(step: str, login: str, ref: str | None) -> None:
        person = reader(login)
        seen = {"dossier page": person.page(f"/dossiers/{iid}"), "dossier api": person.api(f"/dossiers/{iid}")}
        if ref is not None:
            seen["task page"] = person.page(f"/dossiers/{iid}/etape/{ref}")
            seen["task api"] = person.api(f"/dossiers/{iid}/tasks/{ref}")
        if login == PORTEUR:
            seen["mes candidatures"] = person.page("/dossiers/")
        captures.append((step, login, seen))

    for step, decisions in PLAN:
        views = [view for view in services.engine.task_views(iid) if view.bpmn_id == step]
        assert views, f"{step} is not open: {[v.bpmn_id for v in services.engine.task_views(iid)]}"
        for view in views:  # one view, or one per jury member
            actor = driver.actor_for(view, services.engine.instance(iid).epci, PORTEUR)
            read(step, actor.login, view.ref)
            if actor.login != PORTEUR:
                read(step, PORTEUR, None)
            extra = {"commentaire": jury_comment(actor.login)} if step.startswith("examen_") else {}
            form = driver.form_for(view, iid, actor.login, {step: {**decisions, **extra}})
            services.engine.complete(actor, iid, view.ref, form)
    assert services.queries.dossier(iid).outcome == "conventionne"
    for login in ("instructeur1", "auditeur", "tech.epci.cab", PORTEUR):
        read("fin", login, None)
    jury = services.queries.jury_sessions([iid])[iid]["territoriaux"]["CAB"]
    return {"captures": captures, "jury": sorted(set(jury["membres"]) | {jury["president"]}), "services": services,
            "iid": iid}


def _porteur_captures(walk):
    return [(step, what, text) for step, login, seen in walk["captures"] if login == PORTEUR
            for what, text in seen.items()]


@pytest.mark.parametrize("step", sorted({step for step, _ in PLAN} | {"fin"}))
def test_nothing_internal_reaches_the_porteur(walk, step):
    names = [walk["services"].accounts.find(login).full_name for login in walk["jury"]]
    forbidden = [*INTERNAL, *walk["jury"], *[jury_comment(login) for login in walk["jury"]], *filter(None, names)]
    shown = [(what, text) for s, what, text in _porteur_captures(walk) if s == step]
    assert shown
    for what, text in shown:
        leaked = [word for word in forbidden if word in text]
        assert not leaked, f"{step}, {what}: {leaked}"


@pytest.mark.parametrize("step,marker,also", [
    ("contact", CONSEILS, "Conseils au porteur"),
    ("fiche", MOTIF_FICHE, "Motif (communiqué au porteur)"),
    ("complements", PIECES, "Date limite de réponse du porteur"),
])
def test_what_is_addressed_to_the_porteur_reaches_their_task_page_and_api(walk, step, marker, also):
    seen = [s for st, login, s in walk["captures"] if st == step and login == PORTEUR and "task page" in s][-1]
    assert marker in seen["task page"] and also in seen["task page"]
    assert marker in seen["task api"]
    assert marker in seen["dossier page"]


def test_the_porteur_sees_the_outcome_and_the_convention(walk):
    seen = [s for st, login, s in walk["captures"] if st == "fin" and login == PORTEUR][-1]
    assert "Subvention accordée" in seen["dossier page"]  # the commission's decision, addressed to them
    assert "Rédiger la convention" in seen["dossier page"]  # the convention they sign


def _staff_captures(walk, step):
    return [(login, seen) for st, login, seen in walk["captures"] if st == step and login != PORTEUR]


def test_a_jury_member_sees_their_own_scores_not_their_colleagues(walk):
    members = _staff_captures(walk, "examen_territorial")
    assert len(members) >= 3
    for login, seen in members:
        others = [other for other, _ in members if other != login]
        for what, text in seen.items():
            if login == "jury.cab.president":
                continue  # the president oversees the jury's scores
            assert not [o for o in others if jury_comment(o) in text], f"{login}, {what}"
        assert AVIS in seen["task page"]  # staff read the technicians' opinion
    # after their own examination, a member reads it back on the dossier page
    assert jury_comment(members[0][0]) in walk_page(walk, members[0][0], "confirmation_president")


def walk_page(walk, login: str, step: str) -> str:
    """The dossier page ``login`` would read at ``step`` (read now, as it stands at the end)."""
    services = walk["services"]
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": services.engine})
    return Reader(app, services, login).page(f"/dossiers/{walk['iid']}")  # the walked one, not porteur3's newest


def test_the_president_and_the_instructeur_read_every_evaluation(walk):
    president = _staff_captures(walk, "confirmation_president")
    assert president
    members = [login for login, _ in _staff_captures(walk, "examen_territorial")]
    for login, seen in president:
        assert all(jury_comment(m) in seen["task page"] for m in members), login
        assert "evaluations" in seen["task api"]
    final = dict(_staff_captures(walk, "fin"))
    assert all(jury_comment(m) in final["instructeur1"]["dossier page"] for m in members)
    assert MOTIVATION in final["instructeur1"]["dossier page"]


def test_a_technician_reads_staff_records_but_no_jury_score(walk):
    final = dict(_staff_captures(walk, "fin"))["tech.epci.cab"]["dossier page"]
    assert AVIS in final and MOTIVATION in final
    assert not [m for m in walk["jury"] if jury_comment(m) in final]


def test_every_form_declares_a_sound_audience(walk):
    forms = walk["services"].engine.current_forms()
    for name, schema in forms.items():
        if name.endswith(".schema.json"):
            assert disclosure.ANNOTATION in schema, name
            assert disclosure.check_annotations(schema) == [], name


def test_the_porteur_does_not_see_which_staff_member_uploaded_a_document(client, make_dossier, services):
    """The documents list follows the open steps' and the timeline's rule: no staff login for the
    porteur, who reads the draft convention the staff attached for them (a field addressed to them)."""
    instance_id = make_dossier("redaction_convention", "CAB", porteur="porteur1")
    driver = demo.DemoDriver(services)
    view = next(v for v in services.engine.task_views(instance_id) if v.bpmn_id == "redaction_convention")
    actor = driver.actor_for(view, "CAB", "porteur1")
    uploader = actor.login
    draft = services.attachments.store(instance_id, "projet-convention.pdf", demo.DEMO_PDF + b"% projet\n", uploader)
    form = {**driver.form_for(view, instance_id, uploader, {}), "projet_convention": draft.ref}
    services.engine.complete(actor, instance_id, view.ref, form)
    drafted = [draft]
    auth = AuthActions(client)
    auth.login("porteur1")
    page = client.get(f"/dossiers/{instance_id}").get_data(as_text=True)
    assert f"/documents/{drafted[0].sha256}" in page and uploader not in page
    auth.logout()
    auth.login("instructeur1")
    assert uploader in client.get(f"/dossiers/{instance_id}").get_data(as_text=True)


@pytest.mark.parametrize("step,marker", [("contact", CONSEILS), ("fiche", MOTIF_FICHE), ("complements", PIECES)])
def test_the_porteurs_dossier_api_carries_what_their_page_shows(walk, step, marker):
    """API parity: the dossier's API answer comes from the page's presenter (requests, earlier
    steps, timeline, documents), with what is addressed to the porteur and nothing internal."""
    seen = [s for st, login, s in walk["captures"] if st == step and login == PORTEUR and "task page" in s][-1]
    body = json.loads(seen["dossier api"])
    assert [r for r in body["requests"] if marker in json.dumps(r["data"], ensure_ascii=False)]
    assert all(r["role"] != "porteur" for r in body["requests"])
    assert {r["name"] for r in body["earlier_steps"]} and body["timeline"]
    assert all(entry["command"] not in ("claim", "unclaim", "delegate") for entry in body["timeline"])
    for record in body["earlier_steps"]:
        assert record["name"] in seen["dossier page"]


def test_the_porteurs_dossier_api_never_names_staff_nor_carries_scores(walk):
    final = json.loads([s for st, login, s in walk["captures"] if st == "fin" and login == PORTEUR][-1]["dossier api"])
    staff = {e["actor"] for e in final["timeline"]} | {r["actor"] for r in final["earlier_steps"]}
    assert staff <= {PORTEUR, None, "system"}
    assert final["documents"] and all(d["uploaded_by"] in (PORTEUR, None) for d in final["documents"])
    text = json.dumps(final, ensure_ascii=False)
    assert "evaluations" not in text and "note" not in {k for r in final["earlier_steps"] for k in r["data"]}
    staff_view = dict(_staff_captures(walk, "fin"))["instructeur1"]["dossier api"]
    assert MOTIVATION in staff_view and MOTIVATION not in text  # the staff read it, the porteur not


def test_a_jury_step_waits_once_for_the_porteur_not_once_per_member(client, make_dossier, services):
    instance_id = make_dossier("examen_territorial", "CAB", porteur="porteur1")
    jury = [s for s in services.queries.dossier(instance_id).open_steps if s.bpmn_id == "examen_territorial"]
    assert len(jury) >= 3 and len({s.assignee for s in jury}) == len(jury)
    tokens = {login: services.accounts.create_token(login, "jury once") for login in ("porteur1", "instructeur1")}

    def steps(login):
        body = client.get(f"/api/dossiers/{instance_id}", headers={"Authorization": f"Bearer {tokens[login]}"})
        return [s for s in body.get_json()["steps"] if s["bpmn_id"] == "examen_territorial"]

    mine = steps("porteur1")
    assert len(mine) == 1 and mine[0]["assignee"] is None
    assert mine[0]["due_at"] == min(s["due_at"] for s in steps("instructeur1"))
    assert len(steps("instructeur1")) == len(jury)  # the staff see each member's step
    AuthActions(client).login("porteur1")
    page = client.get(f"/dossiers/{instance_id}").get_data(as_text=True)
    current = page.split('id="current-title"', 1)[1].split("</section>", 1)[0]
    assert current.count(jury[0].name) == 1  # one line for the jury's examination
