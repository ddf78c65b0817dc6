"""Récépissés de dépôt: the engine's read (engine.Receipts) and the PDF on the pages and the API."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from engine import Actor, NotFound, Receipts
from engine.journal import entries as journal_entries
from webapp import create_app, demo


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture(scope="module")
def submitted(engine):
    """A dossier of porteur1 in CAB whose dossier complet was submitted (with attachments)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": engine})
    services = app.extensions["dsdt"]
    code = services.queries.campaigns(open_only=True)[0].code
    iid = services.engine.start(Actor("porteur1", frozenset({"porteur"})), code)
    demo.DemoDriver(services).advance(iid, "porteur1", "recevabilite", {"contact": {"epci": "CAB"}})
    return iid


def test_the_engine_reads_the_latest_submission_with_its_files_and_journal_hash(services, submitted):
    receipts = Receipts(services.queries)
    seqs = receipts.submissions(submitted)
    assert len(seqs) == 3  # contact, fiche, dossier
    receipt = receipts.receipt(submitted)
    assert receipt.seq == seqs[-1] and receipt.bpmn_id == "dossier" and receipt.porteur == "porteur1"
    assert receipt.chain_ok and re.fullmatch(r"[0-9a-f]{64}", receipt.entry_hash)
    assert receipt.files and all(re.fullmatch(r"[0-9a-f]{64}", f.sha256) and f.size > 0 for f in receipt.files)
    # The hash is the journal's own: the entry of that sequence number carries it.
    with services.engine.db.sessions() as session:
        row = next(e for e in journal_entries(session, submitted) if e.seq == receipt.seq)
        assert row.entry_hash == receipt.entry_hash
    first = receipts.receipt(submitted, seqs[0])
    assert first.bpmn_id == "contact" and first.files == ()


def test_a_staff_step_or_an_unknown_entry_is_no_receipt(services, submitted):
    receipts = Receipts(services.queries)
    seqs = set(receipts.submissions(submitted))
    staff_seq = next(seq for seq in range(2, 20) if seq not in seqs)
    for seq in (staff_seq, 10_000):
        with pytest.raises(NotFound) as err:
            receipts.receipt(submitted, seq)
        assert err.value.code == "receipt.not_found"


def test_the_porteur_downloads_the_pdf_from_the_dossier_page(auth, client, services, submitted):
    auth.login("porteur1")
    page = client.get(f"/dossiers/{submitted}").get_data(as_text=True)
    assert "Télécharger le récépissé" in page
    links = re.findall(rf'href="(/dossiers/{submitted}/recepisse/\d+)"', page)
    assert len(links) == 3
    response = client.get(links[0])  # the latest first
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    receipt = Receipts(services.queries).receipt(submitted)
    flat = re.sub(r"\s+", "", text)
    assert receipt.ref in text and "Récépissé de dépôt" in text and receipt.step_name in text
    assert receipt.entry_hash in flat  # the hash may be broken over lines
    assert all(f.sha256 in flat and f.filename in flat for f in receipt.files)
    assert "Statuts" in {f.label for f in receipt.files} and "Statuts" in text  # the form's title of the field
    assert "heure de Paris" in text


def test_others_are_refused(auth, client, submitted):
    auth.login("porteur2")  # another porteur: the dossier's existence is not revealed
    assert client.get(f"/dossiers/{submitted}/recepisse").status_code == 404
    auth.logout()
    auth.login("tech.epci.cavm")  # staff of another EPCI
    assert client.get(f"/dossiers/{submitted}/recepisse").status_code == 403
    auth.logout()
    auth.login("tech.epci.cab")  # staff in scope
    assert client.get(f"/dossiers/{submitted}/recepisse").status_code == 200
    auth.logout()
    assert client.get(f"/dossiers/{submitted}/recepisse").status_code in (302, 401)


def test_the_api_gives_the_same_receipt_and_refuses_the_same_people(client, services, submitted):
    def get(login, query=""):
        token = services.accounts.create_token(login, "receipt tests")
        return client.get(f"/api/dossiers/{submitted}/receipt{query}", headers={"Authorization": f"Bearer {token}"})

    mine = get("porteur1")
    assert mine.status_code == 200 and mine.mimetype == "application/pdf"
    assert Receipts(services.queries).receipt(submitted).ref in pdf_text(mine.data)
    assert get("porteur2").status_code == 404
    assert get("tech.epci.cavm").status_code == 403
    missing = get("porteur1", "?seq=1000")
    assert missing.status_code == 404 and missing.get_json()["reason"] == "receipt.not_found"
    assert get("porteur1", "?seq=0").status_code == 422
