"""The integrity page names the first bad entry from verify's own number, also where verify's
text names none (entries cut off the end of the journal, the stored claims edited)."""

from __future__ import annotations

from sqlalchemy import select, text

from engine.persistence.models import Instance

from .test_audit_exports import login, world  # noqa: F401 - world is the fixture these tests use


def _sql(engine, statement: str, **params) -> None:
    with engine.db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_entries_cut_off_the_end_are_named_on_the_integrity_page(world):  # noqa: F811
    engine, app = world
    client = login(app, "auditrice")
    with engine.session() as session:
        iid, length = session.execute(select(Instance.id, Instance.journal_seq).where(Instance.journal_seq >= 4)
                                      .order_by(Instance.id)).first()
    assert "entrée n°" not in client.get(f"/audit/dossiers/{iid}/integrite").get_data(as_text=True)
    _sql(engine, "DELETE FROM journal_entry WHERE instance_id = :iid AND seq >= :seq", iid=iid, seq=length - 1)
    page = client.get(f"/audit/dossiers/{iid}/integrite").get_data(as_text=True)
    assert f"entrée n° {length - 1}" in page and f"#entree-{length - 1}" in page


def test_edited_claims_are_named_at_the_last_entry(world):  # noqa: F811
    engine, app = world
    client = login(app, "responsable")
    with engine.session() as session:
        iid, length = session.execute(select(Instance.id, Instance.journal_seq).order_by(Instance.id)).first()
    _sql(engine, "UPDATE instance SET claims = '{\"forged.0/task.0\": \"intrus\"}' WHERE id = :iid", iid=iid)
    page = client.get(f"/audit/dossiers/{iid}/integrite").get_data(as_text=True)
    assert "pas intègre" in page and f"entrée n° {length}" in page
