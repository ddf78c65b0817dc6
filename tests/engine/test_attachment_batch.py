"""A form's files stored together (issue 12, deadline-day throughput): checked and hashed first,
then one transaction for all of them; content already stored is not stored twice."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from engine import Invalid
from engine.attachments import AttachmentStore
from engine.persistence.models import Attachment, Blob


def test_the_pieces_of_a_form_are_stored_in_one_transaction(walker, engine, clock):
    instance_id = walker.start()
    store = AttachmentStore(engine.db, clock)
    uploads = [store.prepare(name, b"%PDF-1.4 " + content) for name, content in
               (("statuts.pdf", b"a"), ("rib.pdf", b"b"), ("comptes.pdf", b"a"), ("rapport.pdf", b"c"))]
    commits = []

    def committed(connection):
        commits.append(connection)

    event.listen(engine.db.engine, "commit", committed)
    try:
        infos = store.store_all(instance_id, uploads, "porteur1")
    finally:
        event.remove(engine.db.engine, "commit", committed)
    assert len(commits) == 1
    assert [info.ref for info in infos] == [upload.ref for upload in uploads]
    assert infos[0].ref == infos[2].ref and infos[0].filename == "statuts.pdf"  # same content: one attachment
    shas = {upload.sha256 for upload in uploads}
    mine = select(func.count()).select_from(Attachment).where(Attachment.instance_id == instance_id,
                                                          Attachment.sha256.in_(shas))
    with engine.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Blob).where(Blob.sha256.in_(shas))) == 3
        assert session.scalar(mine) == 3
    # Again (a draft saved twice): nothing new stored.
    assert [i.ref for i in store.store_all(instance_id, uploads, "porteur1")] == [u.ref for u in uploads]
    with engine.db.sessions() as session:
        assert session.scalar(mine) == 3
    assert store.store_all(instance_id, [], "porteur1") == []


def test_a_refused_file_is_refused_before_anything_is_stored(engine, clock):
    store = AttachmentStore(engine.db, clock)
    with engine.db.sessions() as session:
        blobs = session.scalar(select(func.count()).select_from(Blob))
    with pytest.raises(Invalid) as refused:
        store.prepare("statuts.pdf", b"MZ\x90\x00 not a pdf")
    assert refused.value.code == "attachment.type_refused"
    with engine.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == blobs
