"""Exports of a simulated campaign, read back by pm4py (a test dependency only): XES, OCEL 2.0
JSON and CSV hold one trace per dossier and one event per step completed, start, timer fired and
withdrawal, counted from the journal independently; a model the inductive miner discovers from
them replays them with fitness 1.0. And one dossier's archive holds its record and its proof."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import warnings
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine import AuditFilter, Invalid, NotFound, exports, journal, seals
from engine.attachments import AttachmentStore
from engine.exports import archive as archive_module
from engine.exports.events import START_ACTIVITY, TIMER_ACTIVITY, WITHDRAWAL_ACTIVITY
from engine.persistence.models import Instance, JournalEntry
from engine.seals import Sealer
from engine.simulation import DurableDriver, simulate

pm4py = pytest.importorskip("pm4py")
pd = pytest.importorskip("pandas")

APPLICATIONS = 30
EVENT_COMMANDS = ("start", "complete", "fire_timers", "withdraw")


@pytest.fixture
def campaign(engine, clock):
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", APPLICATIONS, seed=7,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    return engine


def _journal_counts(engine) -> dict[str, int]:
    """Journal entries per command, counted straight from the table."""
    with engine.session() as session:
        return dict(session.execute(select(JournalEntry.command, func.count()).group_by(JournalEntry.command)).all())


def _dossiers(engine) -> int:
    with engine.session() as session:
        return session.scalar(select(func.count(Instance.id)))


def _export(engine, fmt: str, tmp_path, flt: AuditFilter | None = None):
    found = exports.Exports(engine)
    path = tmp_path / f"log.{exports.FORMATS[fmt][1]}"
    with path.open("wb") as out:
        written = found.write_log(fmt, found.dossier_ids(flt or AuditFilter()), out)
    return path, written


def _fitness(log) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pm4py's own deprecations are not ours to fail on
        net, initial, final = pm4py.discover_petri_net_inductive(log)
        return pm4py.fitness_token_based_replay(log, net, initial, final)


@pytest.fixture(autouse=True)
def _quiet_pm4py():
    logging.getLogger("pm4py").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def test_pm4py_reads_the_xes_one_trace_per_dossier_one_event_per_journaled_event(campaign, tmp_path):
    counts = _journal_counts(campaign)
    expected = sum(counts.get(command, 0) for command in EVENT_COMMANDS)
    assert counts.get("fire_timers") and counts.get("withdraw")  # the campaign has timers and withdrawals
    path, written = _export(campaign, "xes", tmp_path)
    log = pm4py.read_xes(str(path))
    assert log["case:concept:name"].nunique() == _dossiers(campaign) == APPLICATIONS == written[0]
    assert len(log) == expected == written[1]
    assert (log["lifecycle:transition"] == "complete").all()
    activities = set(log["concept:name"])
    assert {START_ACTIVITY, WITHDRAWAL_ACTIVITY} <= activities
    assert {"Date limite de la fiche", "Date limite du dossier"} & activities  # timers named by the model
    assert "Déposer la fiche synthétique" in activities  # a step's human name, not its BPMN id
    with campaign.session() as session:  # the resource of each step is the login that completed it
        instance = session.scalars(select(Instance).order_by(Instance.id)).first()
        rows = [r for r in journal.entries(session, instance.id) if r.command in EVENT_COMMANDS]
    trace = log[log["case:concept:name"] == instance.ref].sort_values("dsdt:seq")
    assert list(trace["org:resource"]) == [r.actor for r in rows]
    assert list(trace["dsdt:seq"]) == [r.seq for r in rows]
    assert set(trace["case:outcome"]) == {instance.outcome} and set(trace["case:epci"]) == {instance.epci}
    assert set(trace["case:reason"]) == {instance.reason}
    roles = dict(zip(trace["dsdt:seq"], trace["org:role"], strict=True))
    assert roles[1] == "porteur"
    fitness = _fitness(log)
    assert fitness["log_fitness"] == 1.0 and fitness["perc_fit_traces"] == 100.0


def test_pm4py_reads_the_csv_as_the_same_log(campaign, tmp_path):
    counts = _journal_counts(campaign)
    path, _ = _export(campaign, "csv", tmp_path)
    frame = pm4py.format_dataframe(pd.read_csv(path), case_id="case_id", activity_key="activity",
                                   timestamp_key="timestamp")
    assert frame["case:concept:name"].nunique() == APPLICATIONS
    assert len(frame) == sum(counts.get(command, 0) for command in EVENT_COMMANDS)
    assert _fitness(frame)["log_fitness"] == 1.0


def test_pm4py_reads_the_ocel_with_its_objects_and_relations(campaign, tmp_path):
    counts = _journal_counts(campaign)
    path, written = _export(campaign, "ocel", tmp_path)
    ocel = pm4py.read_ocel2_json(str(path))
    assert len(ocel.events) == sum(counts.get(command, 0) for command in EVENT_COMMANDS) == written[1]
    types = ocel.objects["ocel:type"].value_counts().to_dict()
    with campaign.session() as session:
        porteurs = session.scalar(select(func.count(func.distinct(Instance.porteur))))
        epcis = session.scalar(select(func.count(func.distinct(Instance.epci))))
        juries = session.scalar(select(func.count(Instance.id)).where(Instance.jury_type.is_not(None)))
    assert types["dossier"] == APPLICATIONS and types["porteur"] == porteurs and types["EPCI"] == epcis
    assert types["campaign"] == 1 and juries and types["jury session"] >= 1
    relations = ocel.relations
    # every event concerns exactly its dossier
    concerns = relations[relations["ocel:qualifier"] == "concerns"]
    assert len(concerns) == len(ocel.events) and concerns["ocel:eid"].is_unique
    assert (relations[relations["ocel:qualifier"] == "sitting of"]["ocel:type"] == "jury session").all()
    assert len(relations[relations["ocel:qualifier"] == "sitting of"]) > 0
    object_relations = ocel.o2o
    assert len(object_relations[object_relations["ocel:qualifier"] == "submitted by"]) == APPLICATIONS


def test_the_filters_select_whole_traces_and_a_log_too_large_is_refused_before_writing(campaign, tmp_path,
                                                                                       monkeypatch):
    with campaign.session() as session:
        ids = list(session.scalars(select(Instance.id).order_by(Instance.id)))
        some = session.scalars(select(Instance.created_at).order_by(Instance.created_at)).all()[10]
    _, written = _export(campaign, "csv", tmp_path, AuditFilter(since=some))
    assert written[0] == APPLICATIONS - 10
    _, written = _export(campaign, "csv", tmp_path, AuditFilter(campaign="AUTRE"))
    assert written == (0, 0)
    monkeypatch.setattr(exports, "MAX_DOSSIERS", 5)
    out = io.BytesIO()
    with pytest.raises(Invalid) as refused:
        exports.Exports(campaign).write_log("xes", ids, out)
    assert refused.value.code == "audit.export_too_large" and out.getvalue() == b""
    with pytest.raises(Invalid) as refused:
        exports.Exports(campaign).write_log("pdf", ids[:1], out)
    assert refused.value.code == "export.format"


def test_a_dossiers_archive_holds_its_history_chain_attachments_and_seal_proof(campaign, tmp_path):
    with campaign.session() as session:
        instance = session.scalars(select(Instance).where(Instance.journal_seq >= 5).order_by(Instance.id)).first()
        iid, ref, seq, head = instance.id, instance.ref, instance.journal_seq, instance.journal_head
    content = b"%PDF-1.4\n% convention\n"
    AttachmentStore(campaign.db, campaign.clock).store(iid, "../../Convention signée.pdf", content, instance.porteur)
    key = tmp_path / "keys" / "seal.pem"
    key.parent.mkdir()
    seals.generate_key(key)
    sealer = Sealer(campaign.db, campaign.clock, seals.load_private_key(key))
    sealer.seal()
    out = io.BytesIO()
    paths = exports.Exports(campaign, Sealer(campaign.db, campaign.clock)).archive(iid, out)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert names == paths
        assert all(name.startswith(f"dossier-{ref}/") and ".." not in name and not name.startswith("/")
                   for name in names)
        read = {name.split("/", 1)[1]: archive.read(name) for name in names}
    history = json.loads(read["history.json"])
    assert [entry["seq"] for entry in history["entries"]] == list(range(1, seq + 1))
    chain = json.loads(read["journal.json"])
    prev = ""
    for row in chain:  # a third party recomputes the chain from the archive alone
        assert row["prev_hash"] == prev
        prev = journal.entry_hash(iid, row["seq"], row["command"], row["actor"], datetime.fromisoformat(row["at"]),
                                  row["payload"], row["state_hash"], row["prev_hash"])
        assert prev == row["entry_hash"]
    assert prev == head
    integrity = json.loads(read["integrity.json"])
    assert integrity["verify"] == {"ok": True, "chain_ok": True, "replay_ok": True, "problem": None, "entry": None}
    assert integrity["seal"]["covers_head"] and integrity["seal"]["journal_leads_to_sealed_head"]
    public = seals.trusted_keys([seals.load_public_key(key.with_name("seal.pem.pub"))])
    assert seals.verify_proof(integrity["seal"]["proof"], public)["ref"] == ref
    # every file of the dossier (the simulated steps' own and the one stored here), each under a
    # safe name made from its hash: the traversal in the stored name is gone
    attachments = [name for name in read if name.startswith("attachments/")]
    ours = f"attachments/{hashlib.sha256(content).hexdigest()[:12]}-Convention_sign_e.pdf"
    assert ours in attachments and read[ours] == content
    assert all(name.count("/") == 1 and ".." not in name for name in attachments)
    assert all(name.split("/")[1].startswith(hashlib.sha256(read[name]).hexdigest()[:12]) for name in attachments)
    manifest = json.loads(read["manifest.json"])
    assert {item["path"]: item["sha256"] for item in manifest["files"]} == {
        name: hashlib.sha256(body).hexdigest() for name, body in read.items() if name != "manifest.json"}


def test_an_archive_without_a_seal_says_so_and_one_too_large_or_unknown_is_refused(campaign, monkeypatch):
    out = io.BytesIO()
    exports.Exports(campaign, Sealer(campaign.db, campaign.clock)).archive(1, out)
    with zipfile.ZipFile(out) as archive:
        integrity = json.loads(archive.read(next(n for n in archive.namelist() if n.endswith("integrity.json"))))
    assert integrity["seal"] is None
    with campaign.session() as session:
        iid = session.scalars(select(Instance.id).order_by(Instance.id)).first()
    AttachmentStore(campaign.db, campaign.clock).store(iid, "a.pdf", b"%PDF-1.4\n", "porteur00001")
    monkeypatch.setattr(archive_module, "MAX_ARCHIVE_BYTES", 4)
    out = io.BytesIO()
    with pytest.raises(Invalid) as refused:
        exports.Exports(campaign).archive(iid, out)
    assert refused.value.code == "export.archive_too_large" and out.getvalue() == b""
    with pytest.raises(NotFound):
        exports.Exports(campaign).archive(10**6, io.BytesIO())


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("/abs/x.pdf", "x.pdf"),
    ("..", "fichier"), (".hidden.pdf", "hidden.pdf"), ("été 2014.pdf", "_t_2014.pdf"), ("", "fichier"),
])
def test_archive_file_names_cannot_leave_their_folder(name, safe):
    assert archive_module.safe_name(name) == safe


def test_a_timer_the_replay_cannot_reach_is_still_an_event_named_generically(campaign):
    with campaign.session() as session:
        iid, seq = session.execute(select(JournalEntry.instance_id, JournalEntry.seq)
                                   .where(JournalEntry.command == "fire_timers").order_by(JournalEntry.id)).first()
        before = next(exports.EventLog(campaign).traces([iid])).events
        row = session.scalar(select(JournalEntry).where(JournalEntry.instance_id == iid, JournalEntry.seq == 2))
        row.payload = {"task": "forged.0/nowhere.0", "data": {}}  # the replay stops at entry 2
        session.commit()
    after = next(exports.EventLog(campaign).traces([iid])).events
    assert len(after) == len(before)
    assert [event.activity for event in before if event.seq == seq][0].startswith("Date limite")
    assert [event.activity for event in after if event.seq == seq] == [TIMER_ACTIVITY]
