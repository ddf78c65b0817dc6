"""Model drafts (engine.model_drafts): whole file sets saved without deploying, with revisions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine import Conflict, Database, Invalid, ModelDrafts, NotFound, model_drafts
from engine.deployments import read_model_files
from tests.conftest import ROOT


def _reread(engine, clock, read):
    """``read(store)`` on a new connection pool: what another process would read from the database."""
    db = Database(engine.db.engine.url.render_as_string(hide_password=False))
    try:
        return read(ModelDrafts(db, clock))
    finally:
        db.dispose()


def test_a_draft_from_the_deployment_keeps_its_files_author_and_time(engine, clock):
    drafts = ModelDrafts(engine.db, clock)
    created = drafts.create_from_deployment("jury-2015", None, "owner1")
    assert (created.revision, created.created_by, created.updated_by) == (1, "owner1", "owner1")
    again = _reread(engine, clock, lambda s: s.get("jury-2015"))
    assert again.files == read_model_files(ROOT)
    assert again.summary == created
    assert [d.name for d in drafts.list()] == ["jury-2015"]


def test_saves_move_the_revision_and_a_stale_save_is_a_conflict_that_changes_nothing(engine, clock):
    drafts = ModelDrafts(engine.db, clock)
    drafts.create("d", {"processes/a.bpmn": b"<a/>"}, "owner1")
    clock.advance(minutes=5)
    saved = drafts.save("d", {"processes/a.bpmn": b"<b/>", "forms/f.schema.json": b"{}"}, "owner2", 1)
    assert (saved.revision, saved.updated_by, saved.created_by) == (2, "owner2", "owner1")
    assert saved.updated_at - saved.created_at == timedelta(minutes=5)
    with pytest.raises(Conflict) as caught:  # owner1 still edits revision 1
        drafts.save("d", {"processes/a.bpmn": b"<c/>"}, "owner1", 1)
    assert caught.value.code == "model_draft.conflict"
    assert caught.value.params["by"] == "owner2" and caught.value.params["revision"] == 2
    reread = _reread(engine, clock, lambda s: s.get("d"))
    assert reread.files == {"processes/a.bpmn": b"<b/>", "forms/f.schema.json": b"{}"}
    assert reread.revision == 2


def test_two_owners_saving_the_same_revision_at_once_one_wins_one_conflicts(engine, clock):
    drafts = ModelDrafts(engine.db, clock)
    drafts.create("d", {"processes/a.bpmn": b"<a/>"}, "owner1")
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def save(who):
        barrier.wait()
        try:
            outcomes[who] = drafts.save("d", {"processes/a.bpmn": who.encode()}, who, 1).revision
        except Conflict as err:
            outcomes[who] = err.code

    threads = [threading.Thread(target=save, args=(who,)) for who in ("owner1", "owner2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes.values())) == ["2", "model_draft.conflict"]
    winner = next(who for who, result in outcomes.items() if result == 2)
    assert drafts.get("d").files == {"processes/a.bpmn": winner.encode()}


@pytest.mark.parametrize("files, code", [
    ({"../etc/passwd.bpmn": b"x"}, "model_draft.bad_path"),
    ({"processes/a.exe": b"x"}, "model_draft.bad_path"),
    ({"processes/sub/a.bpmn": b"x"}, "model_draft.bad_path"),
    ({"processes/a.bpmn": b"x" * (model_drafts.MAX_FILE_BYTES + 1)}, "model_draft.file_too_large"),
    ({f"forms/f{i}.json": b"{}" for i in range(model_drafts.MAX_FILES + 1)}, "model_draft.too_many_files"),
])
def test_bad_paths_and_sizes_are_refused_and_change_nothing(engine, clock, files, code):
    drafts = ModelDrafts(engine.db, clock)
    drafts.create("d", {"processes/a.bpmn": b"<a/>"}, "owner1")
    with pytest.raises(Invalid) as caught:
        drafts.save("d", files, "owner1", 1)
    assert caught.value.code == code
    with pytest.raises(Invalid):
        drafts.create("e", files, "owner1")
    reread = drafts.get("d")
    assert (reread.revision, reread.files) == (1, {"processes/a.bpmn": b"<a/>"})
    assert [d.name for d in drafts.list()] == ["d"]


def test_the_total_size_is_bounded(engine, clock, monkeypatch):
    monkeypatch.setattr(model_drafts, "MAX_DRAFT_BYTES", 10)
    with pytest.raises(Invalid) as caught:
        ModelDrafts(engine.db, clock).create("d", {"forms/a.json": b"123456", "forms/b.json": b"123456"}, "o")
    assert caught.value.code == "model_draft.too_large"


def test_names_are_checked_unique_and_bounded_in_number(bare_engine, clock, monkeypatch):
    drafts = ModelDrafts(bare_engine.db, clock)
    with pytest.raises(Invalid):
        drafts.create("../x", {}, "o")
    drafts.create("a", {}, "o")
    with pytest.raises(Conflict):
        drafts.create("a", {}, "o")
    monkeypatch.setattr(model_drafts, "MAX_DRAFTS", 2)
    drafts.create("b", {}, "o")
    with pytest.raises(Invalid) as caught:
        drafts.create("c", {}, "o")
    assert caught.value.code == "model_draft.too_many"
    with pytest.raises(NotFound):
        drafts.create_from_deployment("c2", None, "o")  # nothing deployed


def test_delete_and_unknown_drafts(engine, clock):
    drafts = ModelDrafts(engine.db, clock)
    drafts.create("d", {"processes/a.bpmn": b"<a/>"}, "o")
    drafts.delete("d")
    for call in (lambda: drafts.get("d"), lambda: drafts.delete("d"),
                 lambda: drafts.save("d", {}, "o", 1)):
        with pytest.raises(NotFound):
            call()
    assert _reread(engine, clock, lambda s: s.list()) == []
