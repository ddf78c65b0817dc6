"""An auditor can change nothing: every route of the app that is not a plain read, and every
operation of the API that is not a GET, is refused to the role and leaves the database as it was.

The routes are read from the app's URL map and the API's OpenAPI document, not listed here, so a
route added later is covered without touching this test (a new URL argument needs a value below,
and the test says so). Every URL argument names a real object, so a 404 is a refusal; and the
database is compared table by table on a checksum of its content, not on row counts.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import delete, select

from engine.persistence.models import Base, HistoryCheck

from .conftest import AuthActions, dossier_at

READS = {"GET", "HEAD", "OPTIONS"}
#: the auditor's own session, not the application's records: logging in, out, choosing a language
OWN_SESSION = {"auth.login", "auth.logout", "auth.language"}
#: blueprints for people without an account (registering, a forgotten password): anyone may use them
#: logged out, so being an auditor neither gives nor takes anything there
PUBLIC_BLUEPRINTS = {"registration"}
#: the statuses that refuse: 403 (the role may not), 405/404 (no such thing for anyone)
REFUSED = {403, 404, 405}


@pytest.fixture
def target(services):
    """Real values for every URL argument: a running demo dossier with an open step, one of its
    documents, an incident and an account that exist, so a 404 is the role's refusal, never a
    missing object."""
    from engine import JuryAdmin, ModelDrafts

    from .test_admin import _incident

    dossier = dossier_at(services, "recevabilite")
    documents = services.attachments.list(dossier.id)
    incident_id = _incident(services)
    assert documents and services.engine.incidents.get(incident_id) and services.accounts.get("porteur1")
    # A standing jury with a seat and a session of a campaign.
    admin = JuryAdmin(services.engine.db)
    jury, seats, sessions = next((found for found in map(admin.jury, (row.code for row in admin.juries()))
                                  if found[1] and found[2]), (None, [], []))
    assert jury is not None, "the demo data have a jury with a member and a session"
    with services.engine.db.sessions.begin() as session:  # a finished test against history
        now = services.engine.now()
        check = HistoryCheck(source="version:1", started_by="process.owner", started_at=now, updated_at=now,
                             status="done", total=0)
        session.add(check)
        session.flush()
        check_id = check.id
    drafts = ModelDrafts(services.engine.db, services.engine.clock)
    draft = next((d for d in drafts.list() if d.name == "audit-readonly"), None) or drafts.create_from_deployment(
        "audit-readonly", None, "process.owner")
    yield {"instance_id": dossier.id, "dossier_id": dossier.id, "task_ref": dossier.open_steps[0].task_ref,
            "ref": dossier.open_steps[0].task_ref, "incident_id": incident_id, "login": "porteur1",
            "sha": documents[0].sha256, "code": jury.code, "seat_id": seats[0].id,
            "campaign": sessions[0].campaign_code, "name": draft.name, "form": "dossier",
            "check_id": check_id}
    # The engine is the session's: leave no draft or test against history to other tests.
    drafts.delete(draft.name)
    with services.engine.db.sessions.begin() as session:
        session.execute(delete(HistoryCheck).where(HistoryCheck.id == check_id))


def url_values(rule, target) -> dict:
    missing = sorted(set(rule.arguments) - set(target))
    assert not missing, f"{rule.rule}: give this test a value for {missing} (a real one, so the refusal is the role's)"
    return {name: target[name] for name in rule.arguments}


def snapshot(engine) -> dict:
    """A checksum of every table's content (every row, every column, in primary-key order) and its
    row count: any insert, update or delete moves it, not only one that changes a count."""
    sums = {}
    with engine.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            for row in session.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            sums[table.name] = (count, digest.hexdigest())
    return sums


# A body each kind of form would accept from someone allowed: what is refused is the person.
FORM = {"motif": "Pour voir", "collegue": "instructeur2", "campagne": "DSDT-2030", "action": "valider",
        "login": "nouveau", "password": "demo-dsdt-2024", "roles": "auditeur", "version": "1"}


def test_every_state_changing_page_is_refused_to_an_auditor(app, client, services, target):
    auth = AuthActions(client)
    auth.login("auditeur")
    token = auth.token("/audit/")
    before = snapshot(services.engine)
    tried = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            methods = rule.methods - READS
            public = rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS
            if not methods or rule.endpoint in OWN_SESSION or public or rule.rule.startswith("/api/"):
                continue
            path = rule.build(url_values(rule, target), append_unknown=False)[1]
            for method in sorted(methods):
                response = client.open(path, method=method, data={**FORM, "csrf_token": token})
                tried.append(rule.endpoint)
                assert response.status_code in REFUSED, (method, path, response.status_code)
    assert snapshot(services.engine) == before
    assert {"dossiers.start", "dossiers.withdraw", "dossiers.task", "inbox.claim", "inbox.delegate",
            "admin.create_user", "admin.retry_incident"} <= set(tried)
    # ... and the auditor was still logged in all along (refused, not sent to the login page).
    assert client.get("/audit/").status_code == 200


#: a valid value for each field an API body may have (so a refusal is the role's, not the body's)
SAMPLE = {"campaign": "DSDT-2030", "data": {}, "motif": "Pour voir", "login": "instructeur2",
          "name": "retrait_candidature", "correlation": {"ref": "DSDT-0001"}, "epci": "CAB"}


def body_for(document: dict, operation: dict) -> dict | None:
    """A body the operation's schema accepts, built from :data:`SAMPLE`."""
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    missing = sorted(set(schema.get("required", ())) - set(SAMPLE))
    assert not missing, f"give this test a valid value for the API field(s) {missing}"
    return {name: SAMPLE[name] for name in schema.get("properties", {}) if name in SAMPLE}


def test_every_api_operation_but_reads_is_refused_to_an_auditor(app, client, services, target):
    token = services.accounts.create_token("auditeur", "audit-readonly")
    try:
        before = snapshot(services.engine)
        document = client.get("/api/openapi.json").get_json()
        operations = [(method.upper(), path, item[method]) for path, item in document["paths"].items()
                      for method in item if method in {"post", "put", "patch", "delete"}]
        assert operations
        documented = set()
        for method, path, operation in operations:
            concrete = re.sub(r"\{(\w+)\}", lambda m: str(target[m.group(1)]), path)
            response = client.open("/api" + concrete if not concrete.startswith("/api") else concrete,
                                   method=method, json=body_for(document, operation),
                                   headers={"Authorization": f"Bearer {token}"})
            assert response.status_code in REFUSED, (method, path, response.status_code, response.get_json())
            assert str(response.status_code) in operation["responses"], (method, path, "refusal not documented")
            documented.add(path)
        # Every state-changing API route of the URL map is in the document (so was tried above).
        with app.test_request_context():
            for rule in app.url_map.iter_rules():
                if rule.rule.startswith("/api/") and rule.methods - READS:
                    templated = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
                    assert any(templated.endswith(path) for path in documented), rule.rule
        assert snapshot(services.engine) == before
    finally:
        services.accounts.revoke_tokens("auditeur", "audit-readonly")
