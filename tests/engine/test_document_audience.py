"""A document has the audience of the form fields that name it (engine.disclosure)."""

from __future__ import annotations

import json

from engine import disclosure
from tests.conftest import ROOT

PORTEUR = disclosure.Reader("porteur1", porteur=True, staff=False, overseer=False)
STAFF = disclosure.Reader("instructeur1", porteur=False, staff=True, overseer=True)
REF_STAFF, REF_OPEN, REF_DRAFT = ("sha256:" + c * 64 for c in "abc")


def _schemas() -> tuple[dict, dict]:
    """The convention's form with its draft file marked staff-only, and the porteur's signature form."""
    drafted = json.loads((ROOT / "forms" / "redaction_convention.schema.json").read_text())
    drafted["properties"]["projet_convention"]["x-audience"] = disclosure.STAFF
    signed = json.loads((ROOT / "forms" / "signature_porteur.schema.json").read_text())
    return drafted, signed


def test_a_file_in_a_staff_only_field_is_not_the_porteurs():
    drafted, signed = _schemas()
    submissions = [(drafted, {"projet_convention": REF_STAFF}, "instructeur1"),
                   (signed, {"convention_signee": REF_OPEN}, "porteur1")]
    porteur_refs = disclosure.document_refs(PORTEUR, submissions)
    assert porteur_refs == ({REF_OPEN}, {REF_STAFF, REF_OPEN})
    assert not disclosure.may_read_document(PORTEUR, REF_STAFF, "instructeur1", porteur_refs)
    assert disclosure.may_read_document(PORTEUR, REF_OPEN, "porteur1", porteur_refs)
    staff_refs = disclosure.document_refs(STAFF, submissions)
    assert disclosure.may_read_document(STAFF, REF_STAFF, "instructeur1", staff_refs)
    assert disclosure.may_read_document(STAFF, REF_OPEN, "porteur1", staff_refs)


def test_the_same_file_named_by_a_field_the_porteur_reads_is_theirs():
    drafted, signed = _schemas()
    submissions = [(drafted, {"projet_convention": REF_STAFF}, "instructeur1"),
                   (signed, {"convention_signee": REF_STAFF}, "porteur1")]
    assert disclosure.may_read_document(PORTEUR, REF_STAFF, "instructeur1",
                                        disclosure.document_refs(PORTEUR, submissions))


def test_an_upload_no_field_names_is_its_uploaders_and_the_staffs():
    refs = disclosure.document_refs(PORTEUR, [])
    assert disclosure.may_read_document(PORTEUR, REF_DRAFT, "porteur1", refs)  # their own draft's file
    assert not disclosure.may_read_document(PORTEUR, REF_DRAFT, "instructeur1", refs)
    assert disclosure.may_read_document(STAFF, REF_DRAFT, "porteur1", disclosure.document_refs(STAFF, []))
