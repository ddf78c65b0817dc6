"""Import and export on the modeler pages (webapp/modeler_archive.py), and one lint: the draft
check lists every problem, as `dsdt lint` does, and `dsdt lint processes/` finds none."""

from __future__ import annotations

import html
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from engine import ModelDrafts
from engine.model_archive import export_zip
from engine.model_drafts import MAX_DRAFT_BYTES
from engine.versions import version_files

from .conftest import ROOT

TIMER = 'campagne["date_limite_fiche"]'
CONDITION = 'adequation_epci["decision"] == "a_completer"'


def _drafts(services):
    return ModelDrafts(services.engine.db, services.engine.clock)


def _upload(auth, name, uploads, **headers):
    """POST /modeler/import with ``uploads`` [(filename, bytes)], following the redirect."""
    data = {"name": name, "files": [(io.BytesIO(content), filename) for filename, content in uploads]}
    return auth.post("/modeler/import", data, content_type="multipart/form-data", follow_redirects=True,
                     headers=headers)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in entries.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def test_a_version_downloads_as_a_zip_of_its_stored_files(client, auth, services):
    auth.login("process.owner")
    response = client.get("/modeler/versions/1/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert 'filename="dsdt-version-1.zip"' in response.headers["Content-Disposition"]
    with services.engine.session() as session:
        stored = version_files(session, services.engine.deployments, 1)
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == stored
    assert client.get("/modeler/versions/999999/export.zip").status_code == 404
    versions = client.get("/modeler/versions").get_data(as_text=True)
    assert 'href="/modeler/versions/1/export.zip"' in versions


def test_a_draft_downloads_and_uploads_back_unchanged(client, auth, services):
    auth.login("process.owner")
    assert auth.post("/modeler/brouillons", {"name": "aller"}).status_code == 302
    page = client.get("/modeler/brouillons/aller").get_data(as_text=True)
    assert 'href="/modeler/brouillons/aller/export.zip"' in page
    exported = client.get("/modeler/brouillons/aller/export.zip")
    assert exported.status_code == 200
    assert exported.data == export_zip(_drafts(services).get("aller").files)

    done = _upload(auth, "retour", [("aller.zip", exported.data)])
    assert "Brouillon retour importé" in done.get_data(as_text=True)
    assert _drafts(services).get("retour").files == _drafts(services).get("aller").files
    assert _drafts(services).get("retour").summary.created_by == "process.owner"


def test_single_files_upload_as_a_draft(auth, services):
    auth.login("process.owner")
    lint_ok = ROOT / "tests" / "data" / "lint" / "ok"
    uploads = [(path.name, path.read_bytes()) for path in sorted(lint_ok.rglob("*")) if path.is_file()]
    done = _upload(auth, "fichiers", uploads)
    assert "Brouillon fichiers importé" in done.get_data(as_text=True)
    files = _drafts(services).get("fichiers").files
    assert sorted(files) == sorted(
        ("processes/" if name.endswith((".bpmn", ".dmn")) or name == "contract.json" else "forms/") + name
        for name, _ in uploads)


@pytest.mark.parametrize(("uploads", "reason"), [
    ([("evil.zip", _zip({"../processes/x.bpmn": b"<x/>"}))], "'..'"),
    ([("x.bpmn", b"<bpmn:definitions")], "processes/x.bpmn"),
    ([("x.bpmn", b'<!DOCTYPE x [<!ENTITY a "aaa">]><x>&a;</x>')], "processes/x.bpmn"),
    ([("f.schema.json", b'{"type": 3}')], "forms/f.schema.json"),
    ([("notes.txt", b"hello")], "notes.txt"),
    ([("bomb.zip", _zip({"processes/x.bpmn": b"<x>" + b" " * (1536 * 1024) + b"</x>"}))], "zip bomb"),
])
def test_bad_uploads_are_refused_with_a_reason_and_nothing_stored(auth, services, uploads, reason):
    auth.login("process.owner")
    before = [d.name for d in _drafts(services).list()]
    page = _upload(auth, "mauvais", uploads).get_data(as_text=True)
    flashed = re.search(r'class="flash[^"]*error[^"]*"[^>]*>(.*?)</', page, re.S)
    assert flashed, page[:2000]
    text = html.unescape(flashed.group(1))
    assert "Import refusé" in text and reason in text
    assert [d.name for d in _drafts(services).list()] == before


def test_no_file_a_bad_name_and_an_oversized_body_are_refused(auth, services, client):
    auth.login("process.owner")
    before = [d.name for d in _drafts(services).list()]
    assert "choisissez un zip" in _upload(auth, "vide", []).get_data(as_text=True)
    bpmn = (ROOT / "tests" / "data" / "lint" / "ok" / "processes" / "mini.bpmn").read_bytes()
    refused = _upload(auth, "../nom", [("mini.bpmn", bpmn)]).get_data(as_text=True)
    assert "Import refusé" in refused
    big = _upload(auth, "gros", [("gros.bpmn", b" " * (MAX_DRAFT_BYTES + 300 * 1024))]).get_data(as_text=True)
    assert "dépasse" in big
    assert [d.name for d in _drafts(services).list()] == before


def test_the_import_needs_the_csrf_token_and_an_owner(client, auth):
    auth.login("process.owner")
    plain = client.post("/modeler/import", data={"name": "x", "files": [(io.BytesIO(b"<x/>"), "x.bpmn")]},
                        content_type="multipart/form-data")
    assert plain.status_code == 400
    auth.logout()
    auth.login("instructeur1")
    assert _upload(auth, "x", [("x.bpmn", b"<x/>")]).status_code == 403
    assert client.get("/modeler/versions/1/export.zip").status_code == 403


def test_the_draft_check_lists_every_problem_each_on_its_element(client, auth):
    auth.login("process.owner")
    assert auth.post("/modeler/brouillons", {"name": "deux-problemes"}).status_code == 302
    page = client.get("/modeler/brouillons/deux-problemes?fichier=processes/phase_fiche.bpmn").get_data(as_text=True)
    config = json.loads(re.search(r'id="modeler-data">(.*?)</script>', page, re.S).group(1))
    broken = config["xml"].replace(f">{TIMER}</", f">{TIMER[:-1]}</").replace(CONDITION, CONDITION + " ==")
    saved = client.post(config["saveUrl"], json={"path": config["path"], "content": broken, "revision": 1},
                        headers={"X-CSRFToken": config["csrf"]})
    assert saved.status_code == 200
    problems = client.post(config["checkUrl"], json={}, headers={"X-CSRFToken": config["csrf"]}).get_json()["problems"]
    assert {(p["file"], p["element_id"], p["rule"]) for p in problems} == {
        ("processes/phase_fiche.bpmn", "fiche_delai", "script"),
        ("processes/phase_fiche.bpmn", "fiche_gw_adequation", "script"),  # a condition, named by its gateway
    }
    assert all(p["message"] for p in problems)


def test_the_browser_lint_config_is_the_repository_bpmnlintrc():
    source = (ROOT / "webapp" / "assets" / "modeler" / "lint_config.js").read_text()
    assert 'from "../../../.bpmnlintrc" with { type: "json" }' in source
    rc = json.loads((ROOT / ".bpmnlintrc").read_text())
    assert set(rc["rules"]) == set(rc["reasons"]), "every rule turned off says why"
    recommended = subprocess.run(
        ["node", "-e", "console.log(JSON.stringify(require('bpmnlint/config/recommended').rules))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    for rule in json.loads(recommended.stdout):
        assert f'"bpmnlint/{rule}": rule' in source, f"{rule} is not packed for the browser"


def test_dsdt_lint_finds_no_problem_in_the_repository_model():
    dsdt = Path(sys.executable).with_name("dsdt")
    done = subprocess.run([str(dsdt), "lint", "processes/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no problem" in done.stderr
