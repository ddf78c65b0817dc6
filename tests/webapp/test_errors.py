"""Errors: request ids, every 500 logged with it, engine errors read in the person's language."""

from __future__ import annotations

import ast
import logging
import re

import pytest

from engine import EngineError
from webapp.engine_messages import MESSAGES

from .conftest import ROOT, AuthActions

ENGINE = ROOT / "engine"
ERROR_CLASSES = {"Conflict", "Forbidden", "Invalid", "NotFound", "ScriptFailed", "LoginFailed", "MailFailed"}


def _raised_errors():
    """(file:line, code or None) of every engine error the engine raises by name."""
    for path in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            call = node.exc if isinstance(node, ast.Raise) else None
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in ERROR_CLASSES:
                code = next((k.value for k in call.keywords if k.arg == "code"), None)
                yield f"{path.relative_to(ROOT)}:{node.lineno}", call.func.id, code


def test_every_error_the_engine_raises_has_a_translated_code():
    missing = [where for where, cls, code in _raised_errors() if code is None and cls != "MailFailed"]
    assert not missing, f"raise sites without code=: {missing}"
    codes = {code.value for _, _, code in _raised_errors() if isinstance(code, ast.Constant)}
    untranslated = sorted(code for code in codes if code not in MESSAGES and not code.startswith("mail."))
    assert not untranslated, f"codes without a message in webapp.engine_messages: {untranslated}"


def test_an_error_without_a_code_gets_its_class_default():
    from engine import Conflict

    assert Conflict("x").code == "conflict" and Conflict("x", code="dossier.closed").code == "dossier.closed"
    assert EngineError("x", params={"a": 1}).params == {"a": 1}


def _withdrawn(make_dossier, auth):
    instance_id = make_dossier("contact", porteur="porteur2")
    auth.login("porteur2")
    assert auth.post(f"/dossiers/{instance_id}/retrait", {"motif": "abandon"}).status_code == 302
    return instance_id


def test_a_french_page_after_a_conflict_shows_french_only(make_dossier, auth):
    instance_id = _withdrawn(make_dossier, auth)
    again = auth.post(f"/dossiers/{instance_id}/retrait", {"motif": "encore"})
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "Ce dossier est clos." in page
    assert "This dossier" not in page and "closed" not in page


def test_the_same_conflict_reads_in_english_for_english_users(make_dossier, auth):
    instance_id = _withdrawn(make_dossier, auth)
    auth.post("/langue", {"lang": "en"})
    page = auth.post(f"/dossiers/{instance_id}/retrait", {"motif": "again"}).get_data(as_text=True)
    assert "This dossier is closed." in page and "Ce dossier est clos" not in page


def test_the_api_returns_the_code_its_params_and_a_translated_message(app, make_dossier, services):
    instance_id = make_dossier("contact", porteur="porteur3")
    headers = {"Authorization": f"Bearer {services.accounts.create_token('porteur3', 'tests')}"}
    client = app.test_client()
    assert client.post(f"/api/dossiers/{instance_id}/withdraw", headers=headers, json={"motif": "x"}).status_code == 200
    again = client.post(f"/api/dossiers/{instance_id}/withdraw", headers=headers, json={"motif": "x"})
    body = again.get_json()
    assert again.status_code == 409
    assert body["code"] == "conflict" and body["reason"] == "dossier.closed" and body["params"] == {}
    assert body["message"] == "Ce dossier est clos."


@pytest.fixture
def live_app(make_app):
    """The app as in production: unexpected errors become 500 pages instead of reaching the test."""
    return make_app(TESTING=False)


def test_a_page_500_is_logged_with_the_request_id_shown(live_app, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(live_app.extensions["dsdt"].queries, "dossiers_of_porteur", boom)
    client = live_app.test_client()
    AuthActions(client).login("porteur1")
    with caplog.at_level(logging.ERROR):
        response = client.get("/dossiers/")
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert request_id in response.get_data(as_text=True) and "database on fire" not in response.get_data(as_text=True)
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and request_id in r.getMessage()]
    assert failures and failures[0].exc_info and "database on fire" in str(failures[0].exc_info[1])
    assert failures[0].request_id == request_id


def test_an_api_500_is_logged_with_the_request_id_returned(live_app, monkeypatch, caplog, make_dossier):
    instance_id = make_dossier("contact", porteur="porteur1")
    services = live_app.extensions["dsdt"]
    headers = {"Authorization": f"Bearer {services.accounts.create_token('porteur1', 'tests')}"}

    def boom(*args, **kwargs):
        raise RuntimeError("index lost")

    monkeypatch.setattr(services.queries, "dossier", boom)
    with caplog.at_level(logging.ERROR):
        response = live_app.test_client().get(f"/api/dossiers/{instance_id}", headers=headers)
    body = response.get_json()
    assert response.status_code == 500 and body["code"] == "internal_error"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert any(body["request_id"] in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_sane_incoming_request_id_is_kept_and_a_forged_one_replaced(client):
    kept = client.get("/connexion", headers={"X-Request-ID": "proxy-1234abcd"})
    assert kept.headers["X-Request-ID"] == "proxy-1234abcd"
    forged = client.get("/connexion", headers={"X-Request-ID": "x] ERROR in auth: FAKE log line " + "y" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])
    assert client.get("/connexion").headers["X-Request-ID"] != client.get("/connexion").headers["X-Request-ID"]
