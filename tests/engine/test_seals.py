"""Seals: signed Merkle roots over the journal heads catch what the hash chain alone cannot, a
history rewritten with every hash recomputed; and every edit of one row is named by ``verify``."""

from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from engine import Invalid, journal, merkle, seals, timestamps
from engine.persistence.models import Base, Instance
from engine.seal_audit import verify_seals
from engine.seals import Sealer
from engine.simulation import DurableDriver, simulate
from tests.factories import insert_copy_of_entry_2


@pytest.fixture
def simulated(engine, clock):
    engine.checkpoint_every = 4
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 4, seed=7,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    return engine


@pytest.fixture
def key_path(tmp_path):
    path = tmp_path / "keys" / "seal.pem"
    path.parent.mkdir()
    seals.generate_key(path)
    return path


@pytest.fixture
def sealer(simulated, key_path):
    return Sealer(simulated.db, simulated.clock, seals.load_private_key(key_path))


def _keys(key_path):
    return seals.trusted_keys([seals.load_public_key(key_path.with_name("seal.pem.pub"))])


def _audit(engine, sealer, key_path, records=None):
    with engine.session() as session:
        return verify_seals(session, sealer.records() if records is None else records, _keys(key_path))


def _an_instance(engine, min_entries=5) -> tuple[int, str]:
    with engine.session() as session:
        return session.execute(select(Instance.id, Instance.ref).where(Instance.journal_seq >= min_entries)
                               .order_by(Instance.id)).first()


def _sql(engine, statement, **params):
    with engine.db.engine.begin() as connection:
        connection.execute(text(statement), params)


# -- the Merkle tree ----------------------------------------------------------------------------

def test_the_merkle_root_is_rfc_6962s():
    """The test vector of Certificate Transparency's reference implementation."""
    data = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    leaves = [merkle.leaf_hash(bytes.fromhex(d)) for d in data]
    assert merkle.root(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle.root([]).hex() == hashlib.sha256(b"").hexdigest()


def test_every_leaf_of_every_tree_size_has_a_proof_that_checks_and_only_there():
    for size in range(1, 18):
        leaves = [merkle.leaf_hash(str(i).encode()) for i in range(size)]
        head = merkle.root(leaves)
        for index in range(size):
            path = merkle.inclusion_proof(index, leaves)
            assert merkle.verify_inclusion(leaves[index], index, size, path, head)
            assert not merkle.verify_inclusion(merkle.leaf_hash(b"x"), index, size, path, head)
            if size > 1:
                assert not merkle.verify_inclusion(leaves[index], (index + 1) % size, size, path, head)
                assert not merkle.verify_inclusion(leaves[index], index, size, path + [head], head)


# -- keys -------------------------------------------------------------------------------------

def test_keygen_writes_a_private_key_only_its_owner_reads_and_the_public_key_beside_it(key_path):
    assert oct(os.stat(key_path).st_mode & 0o777) == "0o600"
    public = seals.load_public_key(key_path.with_name("seal.pem.pub"))
    assert seals.fingerprint(public) == seals.fingerprint(seals.load_private_key(key_path).public_key())
    with pytest.raises(Invalid) as refused:
        seals.generate_key(key_path)
    assert refused.value.code == "seal.key_exists" and key_path.read_bytes().startswith(b"-----BEGIN PRIVATE")


def test_a_key_others_can_read_or_not_ed25519_is_refused_saying_why(key_path, tmp_path):
    key_path.chmod(0o644)
    with pytest.raises(Invalid, match="chmod 600"):
        seals.load_private_key(key_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("pas une clé")
    garbage.chmod(0o600)
    with pytest.raises(Invalid, match="not an unencrypted PEM private key"):
        seals.load_private_key(garbage)
    with pytest.raises(Invalid, match="keygen"):
        seals.load_private_key(tmp_path / "absent.pem")


def test_sealing_without_a_key_is_refused_and_writes_nothing(simulated):
    sealer = Sealer(simulated.db, simulated.clock, None)
    with pytest.raises(Invalid) as refused:
        sealer.seal()
    assert refused.value.code == "seal.no_key" and "DSDT_SEAL_KEY" in refused.value.message
    assert sealer.records() == [] and sealer.seal_if_due() == 0


# -- sealing and auditing -----------------------------------------------------------------------

def test_a_seal_covers_every_dossier_head_and_an_untouched_journal_matches_it(simulated, sealer, key_path):
    record = sealer.seal()
    with simulated.session() as session:
        heads = [list(row) for row in session.execute(
            select(Instance.id, Instance.ref, Instance.journal_seq, Instance.journal_head).order_by(Instance.id))]
    assert record.leaves == heads and record.header["size"] == 4 and record.header["previous"] == ""
    assert seals.check_record(record, _keys(key_path)) is None
    report = _audit(simulated, sealer, key_path)
    assert report.ok and report.trusted == 1 and report.heads == 4, report.as_dict()


def test_the_worker_seals_once_per_interval_and_seals_chain(simulated, sealer, clock):
    assert sealer.seal_if_due() == 1
    clock.advance(hours=23)
    assert sealer.seal_if_due() == 0
    fresh = Sealer(simulated.db, clock, sealer.key)  # another process reads the last seal's time
    assert fresh.seal_if_due() == 0
    clock.advance(hours=1)
    assert fresh.seal_if_due() == 1
    first, second = sealer.records()
    assert second.header["sequence"] == 2 and second.header["previous"] == first.hash


TAMPERING = {
    "changed": ["UPDATE journal_entry SET actor = 'intrus' WHERE instance_id = :iid AND seq = 3"],
    "deleted": ["DELETE FROM journal_entry WHERE instance_id = :iid AND seq = 3"],
    "reordered": ["UPDATE journal_entry SET seq = -1 WHERE instance_id = :iid AND seq = 3",
                  "UPDATE journal_entry SET seq = 3 WHERE instance_id = :iid AND seq = 4",
                  "UPDATE journal_entry SET seq = 4 WHERE instance_id = :iid AND seq = -1"],
    "inserted": None,  # a copy of entry 2 slipped in as entry 3, the later ones renumbered
}
NAMED = {"changed": "entry 3 was altered", "deleted": "entry 3 is missing", "reordered": "entry 3",
         "inserted": "entry 3"}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_an_edit_of_one_row_is_named_by_verify_and_by_the_seals(simulated, sealer, key_path, case):
    iid, ref = _an_instance(simulated)
    sealer.seal()
    if TAMPERING[case] is None:
        insert_copy_of_entry_2(simulated, iid)
    for statement in TAMPERING[case] or ():
        _sql(simulated, statement, iid=iid)
    report = simulated.verify()
    assert [item["instance"] for item in report.diverged] == [iid]
    assert NAMED[case] in report.diverged[0]["problem"], report.diverged[0]["problem"]
    audit = _audit(simulated, sealer, key_path)
    assert [(item["ref"], item["seal"]) for item in audit.rewritten] == [(ref, 1)]
    assert audit.rewritten[0]["entry"] == 1  # nothing earlier is vouched for: the only seal is after it


def test_an_edited_stored_state_is_named_with_the_entry_it_follows(simulated):
    with simulated.session() as session:
        iid, seq = session.execute(select(Instance.id, Instance.state_seq).where(Instance.state_seq > 0)
                                   .order_by(Instance.id)).first()
    _sql(simulated, "UPDATE instance SET state = replace(state, '\"porteur\":\"', '\"porteur\":\"x') "
                    "WHERE id = :iid", iid=iid)
    report = simulated.verify()
    assert [item["instance"] for item in report.diverged] == [iid]
    assert f"the stored state (after entry {seq})" in report.diverged[0]["problem"]


def _rewrite_whole_chain(engine, iid, actor):
    """What someone with write access does: change every entry, recompute every hash and the head."""
    with engine.session() as session:
        instance = session.get(Instance, iid)
        rows = journal.entries(session, iid)
        prev = ""
        for row in rows:
            row.actor, row.prev_hash = actor, prev
            row.entry_hash = prev = journal.entry_hash(row.instance_id, row.seq, row.command, row.actor, row.at,
                                                       row.payload, row.state_hash, row.prev_hash)
        instance.journal_head = prev
        session.commit()


def test_a_chain_rewritten_with_recomputed_hashes_passes_verify_but_not_the_seals(simulated, sealer, key_path,
                                                                                  walker, clock):
    iid, ref = _an_instance(simulated)
    sealer.seal()
    clock.advance(days=1)
    sealer.seal()
    _rewrite_whole_chain(simulated, iid, "quelquun-dautre")
    report = simulated.verify()
    assert report.diverged == [] and report.chain_ok  # the chain alone cannot tell
    audit = _audit(simulated, sealer, key_path)
    assert not audit.ok and audit.refused == []
    assert [(item["instance"], item["ref"], item["seal"]) for item in audit.rewritten] == [(iid, ref, 1)]
    assert "no longer gives the head sealed in seal 1" in audit.rewritten[0]["problem"]


def test_a_seal_tells_which_entries_changed_between_two_seals(simulated, sealer, key_path, walker):
    iid, ref = _an_instance(simulated)
    with simulated.session() as session:
        sealed_at = session.get(Instance, iid).journal_seq
    sealer.seal()
    # Two more entries after the first seal (a claim and an unclaim by the simulation's actors is
    # awkward here): append entries with the journal's own function, as commands would.
    with simulated.session() as session:
        instance = session.get(Instance, iid)
        last = journal.entries(session, iid)[-1]
        for _ in range(2):
            journal.append(session.connection(), instance, "note", "auditeur", last.at, {}, last.state_hash)
        session.commit()
    sealer.seal()
    with simulated.session() as session:  # rewrite only the entries after the first seal
        rows = journal.entries(session, iid)
        prev = rows[sealed_at - 1].entry_hash
        for row in rows[sealed_at:]:
            row.actor, row.prev_hash = "intrus", prev
            row.entry_hash = prev = journal.entry_hash(row.instance_id, row.seq, row.command, row.actor, row.at,
                                                       row.payload, row.state_hash, row.prev_hash)
        session.get(Instance, iid).journal_head = prev
        session.commit()
    audit = _audit(simulated, sealer, key_path)
    assert [(item["ref"], item["seal"], item["entry"]) for item in audit.rewritten] == [(ref, 2, sealed_at + 1)]
    assert f"an entry from {sealed_at + 1} to {sealed_at + 2}" in audit.rewritten[0]["problem"]


def test_a_dossier_deleted_after_its_seal_is_named(simulated, sealer, key_path):
    iid, ref = _an_instance(simulated)
    sealer.seal()
    # Whoever deletes a dossier deletes every row that points at it (read from the schema, so a
    # projection added later is deleted too).
    for table in reversed(Base.metadata.sorted_tables):
        if "instance_id" in table.c:
            _sql(simulated, f"DELETE FROM {table.name} WHERE instance_id = :iid", iid=iid)
    _sql(simulated, "DELETE FROM instance WHERE id = :iid", iid=iid)
    audit = _audit(simulated, sealer, key_path)
    assert [item["ref"] for item in audit.rewritten] == [ref]
    assert "no longer in the database" in audit.rewritten[0]["problem"]


# -- forged and broken logs ---------------------------------------------------------------------

def test_a_forged_seal_is_refused_and_its_heads_are_not_trusted(simulated, sealer, key_path, tmp_path, clock):
    first = sealer.seal()
    iid, ref = _an_instance(simulated)
    _rewrite_whole_chain(simulated, iid, "faussaire")
    # The forger seals the rewritten heads with a key of their own...
    seals.generate_key(tmp_path / "forger.pem")
    forger = Sealer(simulated.db, clock, seals.load_private_key(tmp_path / "forger.pem"))
    leaves = [leaf if leaf[0] != iid else [iid, ref, leaf[2], simulated.instance(iid).journal_head]
              for leaf in first.leaves]
    header = {**first.header, "root": merkle.root(seals.leaf_hashes(leaves)).hex(), "key": seals.fingerprint(
        forger.key.public_key())}
    by_forger = seals.SealRecord(header, leaves, base64.b64encode(forger.key.sign(seals.canonical(header))).decode())
    audit = _audit(simulated, sealer, key_path, [by_forger])
    assert audit.trusted == 0 and "not a trusted public key" in audit.refused[0]["problem"]
    # ...or keeps our key's fingerprint and signature over a header whose root they changed.
    altered = seals.SealRecord({**header, "key": first.header["key"]}, leaves, first.signature)
    audit = _audit(simulated, sealer, key_path, [altered])
    assert "forged or altered" in audit.refused[0]["problem"]
    # Changing the leaves alone leaves the signed root: refused too.
    audit = _audit(simulated, sealer, key_path, [seals.SealRecord(first.header, leaves, first.signature)])
    assert "do not give the Merkle root" in audit.refused[0]["problem"]
    assert audit.rewritten == []  # a refused seal vouches for nothing


def test_a_seal_removed_from_the_log_is_reported(sealer, key_path, simulated, clock):
    for _ in range(3):
        sealer.seal()
        clock.advance(days=1)
    first, _, third = sealer.records()
    audit = _audit(simulated, sealer, key_path, [first, third])
    assert audit.refused == [{"seal": 3, "problem": audit.refused[0]["problem"]}]
    assert "does not follow seal 1" in audit.refused[0]["problem"]


def test_the_exported_log_reads_back_and_a_broken_line_is_named(sealer, tmp_path):
    import io

    sealer.seal()
    out = io.StringIO()
    assert sealer.export(out) == 1
    assert seals.read_log(out.getvalue()) == sealer.records()
    with pytest.raises(Invalid) as refused:
        seals.read_log(out.getvalue() + "{pas du json\n", "seals.jsonl")
    assert refused.value.code == "seal.log_invalid" and "seals.jsonl, line 2" in refused.value.message


# -- inclusion proofs ---------------------------------------------------------------------------

def test_a_dossiers_inclusion_proof_checks_with_the_public_key_alone(simulated, sealer, key_path):
    iid, ref = _an_instance(simulated)
    sealer.seal()
    proof = sealer.proof(ref)
    assert seals.verify_proof(proof, _keys(key_path)) == {
        "instance": iid, "ref": ref, "seq": simulated.instance(iid).journal_seq,
        "head": simulated.instance(iid).journal_head}
    for forged in ({**proof, "leaf": [iid, ref, proof["leaf"][2], "0" * 64]},
                   {**proof, "index": proof["index"] + 1},
                   {**proof, "header": {**proof["header"], "size": 99}},
                   {**proof, "path": ["zz"]}, {"format": "?"}):
        with pytest.raises(Invalid) as refused:
            seals.verify_proof(forged, _keys(key_path))
        assert refused.value.code == "seal.proof_invalid"
    with pytest.raises(Exception) as missing:
        sealer.proof("DSDT-2014-99999")
    assert getattr(missing.value, "code", None) == "seal.not_sealed"


# -- RFC 3161 time-stamps -----------------------------------------------------------------------

def test_the_time_stamp_request_is_the_der_rfc_3161_defines():
    digest = bytes(range(32))
    der = timestamps.request(digest, nonce=5)
    assert der == bytes.fromhex("303c020101" "3031" "300d06096086480165030402010500" "0420" + digest.hex()
                                + "020105" "0101ff")


class _Tsa(http.server.BaseHTTPRequestHandler):
    answers: list[bytes] = []
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 (the http.server API)
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        answer = self.answers.pop(0)
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_a_configured_time_stamping_service_stamps_each_seal_and_a_refusal_keeps_the_seal(
        simulated, key_path, caplog):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Tsa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        granted, refused = bytes.fromhex("3005" "3003020100"), bytes.fromhex("3005" "3003020102")
        _Tsa.answers[:], _Tsa.received[:] = [granted, refused], []
        stamper = timestamps.Rfc3161Timestamper(f"http://127.0.0.1:{server.server_port}/tsa")
        sealer = Sealer(simulated.db, simulated.clock, seals.load_private_key(key_path),
                        interval=timedelta(hours=1), timestamper=stamper)
        first = sealer.seal()
        assert base64.b64decode(first.timestamp) == granted
        assert hashlib.sha256(seals.canonical(first.header)).digest() in _Tsa.received[0]
        with caplog.at_level(logging.ERROR, logger="engine.seals"):
            second = sealer.seal()
        assert second.timestamp is None and "refused the request (status 2)" in caplog.text
        assert [record.timestamp for record in sealer.records()] == [first.timestamp, None]
    finally:
        server.shutdown()
        server.server_close()
