"""The ``complete`` command accepts, in an attachment field, only a file of the dossier itself:
whoever sends the data (page, API, CLI, simulator) goes through this one check."""

from __future__ import annotations

import pytest

from engine import Invalid
from engine.attachments import AttachmentStore
from engine.simulation.fake_data import SAMPLE_REF
from tests.factories import OTHER_PORTEUR, PORTEUR

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _at_dossier(walker) -> tuple[int, object]:
    iid = walker.start()
    walker.through_contact(iid)
    walker.through_fiche(iid)
    return iid, walker.view(iid, "dossier")


def _snapshot(engine, iid):
    row = engine.instance(iid)
    return row.version, row.journal_seq, row.journal_head


def test_a_file_of_another_dossier_is_refused_and_nothing_changes(walker, engine, clock):
    iid, view = _at_dossier(walker)
    other = walker.start(OTHER_PORTEUR)
    foreign = AttachmentStore(engine.db, clock).store(other, "rib.png", PNG, OTHER_PORTEUR.login).ref
    data = walker.form(view)
    data["pieces"]["rib"] = foreign
    data["pieces"]["comptes"] = "sha256:" + "0" * 64  # typed: no such file anywhere
    before = _snapshot(engine, iid)
    with pytest.raises(Invalid) as caught:
        engine.complete(PORTEUR, iid, view.ref, data)
    err = caught.value
    assert err.code == "attachment.foreign"
    assert set(err.errors) == {"pieces.rib", "pieces.comptes"}  # the dossier's own files pass
    assert err.params["fields"] == {"pieces.rib": "attachment.foreign", "pieces.comptes": "attachment.foreign"}
    assert err.instance_id == iid and err.bpmn_id == "dossier"
    assert _snapshot(engine, iid) == before
    assert walker.steps(iid) == ["dossier"]


def test_a_path_or_a_value_that_is_no_reference_is_refused(walker, engine):
    iid, view = _at_dossier(walker)
    data = walker.form(view)
    data["pieces"]["statuts"] = "../../etc/passwd"
    with pytest.raises(Invalid) as caught:
        engine.complete(PORTEUR, iid, view.ref, data)
    assert caught.value.code == "attachment.foreign"
    assert walker.steps(iid) == ["dossier"]


def test_the_dossiers_own_files_are_accepted(walker, engine, clock):
    iid, view = _at_dossier(walker)
    own = AttachmentStore(engine.db, clock).store(iid, "rib.png", PNG, PORTEUR.login).ref
    data = walker.form(view)
    data["pieces"]["rib"] = own
    assert data["pieces"]["statuts"] == SAMPLE_REF  # uploaded to the dossier by walker.start
    engine.complete(PORTEUR, iid, view.ref, data)
    assert walker.steps(iid) != ["dossier"]


def test_the_same_file_uploaded_to_another_dossier_only_is_refused(walker, engine, clock):
    """Content addressing must not let a dossier borrow a file stored (by its hash) for another."""
    iid, view = _at_dossier(walker)
    other = walker.start(OTHER_PORTEUR)
    AttachmentStore(engine.db, clock).store(other, "rib.png", PNG, OTHER_PORTEUR.login)
    data = walker.form(view)
    data["pieces"]["rib"] = AttachmentStore(engine.db, clock).prepare("rib.png", PNG).ref
    with pytest.raises(Invalid) as caught:
        engine.complete(PORTEUR, iid, view.ref, data)
    assert set(caught.value.errors) == {"pieces.rib"}


def test_schema_errors_and_foreign_files_are_reported_together(walker, engine):
    iid, view = _at_dossier(walker)
    data = walker.form(view)
    data["pieces"]["rib"] = "sha256:" + "1" * 64
    del data["pieces"]["statuts"]
    with pytest.raises(Invalid) as caught:
        engine.complete(PORTEUR, iid, view.ref, data)
    err = caught.value
    assert err.code == "form.errors"
    assert "pieces.statuts" in err.errors and "pieces.rib" in err.errors
    assert err.params["fields"] == {"pieces.rib": "attachment.foreign"}
