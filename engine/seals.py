"""Seals: signed Merkle roots over every dossier's journal head, anchored outside the database.

The journal's hash chain (:mod:`engine.journal`) shows any edit of a row, but not a rewrite by
someone who also recomputes every hash and the instance's head. A seal fixes the heads at one
instant: the leaves are ``[instance id, ref, journal seq, head hash]`` of every dossier, by
instance id; their RFC 6962 Merkle root (:mod:`engine.merkle`) goes into a *header* with the
seal's sequence, instant, size, the previous seal's hash (the seals form a chain too) and the
fingerprint of the Ed25519 key that signs the header's canonical JSON. The private key lives in a
file named by ``DSDT_SEAL_KEY``, never in the database nor the repository, so whoever can write
to the database cannot forge a seal.

Seals are appended to the ``seal`` table (at least daily by the timer worker, and by ``dsdt
seal``) and exported as JSON lines (``dsdt seal export``) to be kept and published elsewhere;
:mod:`engine.seal_audit` checks the journal against such a file. A dossier's inclusion proof
(:meth:`Sealer.proof`) lets its archive prove its head was sealed without the other dossiers.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import merkle
from .errors import Conflict, Invalid, NotFound
from .persistence.models import Instance, Seal
from .seal_keys import fingerprint, load_private_key

# The keys' functions, re-exported: callers of seals need no second module.
from .seal_keys import generate_key as generate_key
from .seal_keys import load_public_key as load_public_key
from .seal_keys import trusted_keys as trusted_keys

log = logging.getLogger(__name__)

FORMAT = "dsdt-seal/1"
PROOF_FORMAT = "dsdt-seal-proof/1"


def canonical(value) -> bytes:
    """The bytes that are hashed and signed: JSON with sorted keys, no spaces, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


# -- seal records -------------------------------------------------------------------------------

def leaf_hashes(leaves: list[list]) -> list[bytes]:
    return [merkle.leaf_hash(canonical(leaf)) for leaf in leaves]


@dataclass(frozen=True)
class SealRecord:
    """One seal: the signed ``header``, the ``leaves`` its root covers, the base64 signature,
    and an RFC 3161 time-stamp token over its hash (base64) when one was obtained."""

    header: dict
    leaves: list[list]
    signature: str
    timestamp: str | None = None

    @property
    def sequence(self) -> int:
        return self.header["sequence"]

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical(self.header)).hexdigest()

    def as_dict(self) -> dict:
        return {"header": self.header, "hash": self.hash, "leaves": self.leaves, "signature": self.signature,
                "timestamp": self.timestamp}

    def line(self) -> str:
        """The record as one line of the exported log."""
        return canonical(self.as_dict()).decode()


def _log_error(where: str, reason: str) -> Invalid:
    return Invalid(f"The seal log cannot be read ({where}): {reason}. Give the file `dsdt seal export` wrote.",
                   code="seal.log_invalid", params={"where": where, "reason": reason})


def read_log(text: str, name: str = "seal log") -> list[SealRecord]:
    """The records of an exported seal log (one JSON object a line); :class:`Invalid` naming the
    line that is not one. Whether each record holds is :func:`check_record`'s question."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
            records.append(SealRecord(dict(item["header"]), list(item["leaves"]), str(item["signature"]),
                                      item.get("timestamp")))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise _log_error(f"{name}, line {number}", f"not a seal record ({type(err).__name__})") from err
    return records


def _well_formed(leaves) -> bool:
    last = None
    for leaf in leaves:
        if not (isinstance(leaf, list) and len(leaf) == 4 and type(leaf[0]) is int and isinstance(leaf[1], str)
                and type(leaf[2]) is int and isinstance(leaf[3], str)):
            return False
        if last is not None and leaf[0] <= last:
            return False  # one leaf per dossier, by instance id: the order the root was computed in
        last = leaf[0]
    return True


def check_signature(header: dict, signature: str, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Whether ``header`` is a seal header signed by one of ``keys`` (None) or what is wrong."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return f"not a {FORMAT} seal"
    key = keys.get(header.get("key"))
    if key is None:
        return f"signed by key {str(header.get('key'))[:16]}…, which is not a trusted public key"
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical(header))
    except (InvalidSignature, ValueError, TypeError):
        return "its signature does not match its header: the seal was forged or altered"
    return None


def check_record(record: SealRecord, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """What is wrong with ``record`` on its own (format, signature by a trusted key, root over
    its leaves), or None. Its place in the log is :mod:`engine.seal_audit`'s to check."""
    header = record.header
    problem = check_signature(header, record.signature, keys)
    if problem:
        return problem
    if not _well_formed(record.leaves) or header.get("size") != len(record.leaves):
        return "its leaves are not the list its header counts"
    if merkle.root(leaf_hashes(record.leaves)).hex() != header.get("root"):
        return "its leaves do not give the Merkle root it signs: they were altered"
    return None


def verify_proof(proof: dict, keys: dict[str, Ed25519PublicKey]) -> dict:
    """Check a dossier's inclusion proof (:meth:`Sealer.proof`); return the leaf it proves
    (``instance``, ``ref``, ``seq``, ``head``) or raise :class:`Invalid` saying why not."""
    def refuse(reason: str):
        raise Invalid(f"The seal proof does not hold: {reason}", code="seal.proof_invalid",
                      params={"reason": reason})

    try:
        header, leaf, index = proof["header"], proof["leaf"], proof["index"]
        path = [bytes.fromhex(p) for p in proof["path"]]
        problem = check_signature(header, proof["signature"], keys)
        if problem:
            refuse(problem)
        included = _well_formed([leaf]) and type(index) is int and merkle.verify_inclusion(
            merkle.leaf_hash(canonical(leaf)), index, header["size"], path, bytes.fromhex(header["root"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        refuse("it is not a seal proof")
    if not included:
        refuse("the leaf is not in the sealed tree")
    return dict(zip(("instance", "ref", "seq", "head"), leaf, strict=True))


# -- the sealer ---------------------------------------------------------------------------------

class Sealer:
    """Seals every dossier's journal head (``dsdt seal``, and the timer worker every ``interval``).

    ``key``: the Ed25519 private key, or None (then :meth:`seal` refuses and
    :meth:`seal_if_due` does nothing); ``timestamper``: an optional callable giving an RFC 3161
    token (bytes) for a seal's sha256 digest.
    """

    def __init__(self, db, clock, key: Ed25519PrivateKey | None = None, interval: timedelta = timedelta(days=1),
                 timestamper=None):
        self.db = db
        self.clock = clock
        self.key = key
        self.interval = interval
        self.timestamper = timestamper
        self._next_due: datetime | None = None

    @classmethod
    def from_config(cls, config, db, clock) -> Sealer:
        """The sealer ``config`` describes (its key read now: a bad key fails at start, not at night)."""
        key = load_private_key(config.seal_key) if config.seal_key else None
        timestamper = None
        if config.seal_tsa_url:
            from .timestamps import Rfc3161Timestamper

            timestamper = Rfc3161Timestamper(config.seal_tsa_url)
        return cls(db, clock, key, timedelta(hours=config.seal_interval_hours), timestamper)

    def seal(self) -> SealRecord:
        """Seal every dossier's head now and append the seal to the table."""
        if self.key is None:
            raise Invalid("No seal key: set DSDT_SEAL_KEY to an Ed25519 private key kept outside the database "
                          "(create one with `dsdt seal keygen --out PATH`).", code="seal.no_key")
        now = self.clock.now()
        with self.db.engine.connect() as connection:
            last = connection.execute(select(Seal.sequence, Seal.seal_hash).order_by(Seal.sequence.desc())
                                      .limit(1)).first()
            leaves = [list(row) for row in connection.execute(
                select(Instance.id, Instance.ref, Instance.journal_seq, Instance.journal_head)
                .where(Instance.journal_seq > 0).order_by(Instance.id))]
        header = {"format": FORMAT, "sequence": last[0] + 1 if last else 1, "created_at": now.isoformat(),
                  "size": len(leaves), "root": merkle.root(leaf_hashes(leaves)).hex(),
                  "previous": last[1] if last else "", "key": fingerprint(self.key.public_key())}
        signature = base64.b64encode(self.key.sign(canonical(header))).decode()
        record = SealRecord(header, leaves, signature, self._timestamp(header))
        try:
            with self.db.engine.begin() as connection:
                connection.execute(Seal.__table__.insert().values(
                    sequence=record.sequence, created_at=now, seal_hash=record.hash,
                    header=canonical(header).decode(), leaves=canonical(leaves).decode(), signature=signature,
                    timestamp_token=record.timestamp))
        except IntegrityError as err:
            raise Conflict(f"Another seal numbered {record.sequence} was written meanwhile; seal again.",
                           code="seal.concurrent", params={"sequence": record.sequence}) from err
        self._next_due = now + self.interval
        log.info("seal %s: %s dossiers, root %s", record.sequence, len(leaves), header["root"])
        return record

    def _timestamp(self, header: dict) -> str | None:
        """An RFC 3161 token over the seal's hash, or None (none configured, or the service failed)."""
        if self.timestamper is None:
            return None
        try:
            return base64.b64encode(self.timestamper(hashlib.sha256(canonical(header)).digest())).decode()
        except Exception:  # the signed seal stands on its own; an unreachable service must not stop it
            log.exception("seal %s: no RFC 3161 time-stamp (the seal is kept without one)", header["sequence"])
            return None

    def seal_if_due(self) -> int:
        """The worker's job: seal when ``interval`` has passed since the last seal (1 if sealed)."""
        if self.key is None:
            return 0
        now = self.clock.now()
        if self._next_due is not None and now < self._next_due:
            return 0  # known without reading the table: the worker calls this every few seconds
        with self.db.engine.connect() as connection:
            last = connection.execute(select(Seal.created_at).order_by(Seal.sequence.desc()).limit(1)).scalar()
        if last is not None and now < last + self.interval:
            self._next_due = last + self.interval
            return 0
        try:
            self.seal()
        except Conflict:  # another worker sealed at the same moment: that seal serves
            self._next_due = None
            return 0
        return 1

    def records(self, up_to: int | None = None) -> list[SealRecord]:
        """The seals of the table, oldest first (up to sequence ``up_to``)."""
        query = select(Seal.header, Seal.leaves, Seal.signature, Seal.timestamp_token).order_by(Seal.sequence)
        if up_to is not None:
            query = query.where(Seal.sequence <= up_to)
        with self.db.engine.connect() as connection:
            return [SealRecord(orjson.loads(h), orjson.loads(leaves), s, t)
                    for h, leaves, s, t in connection.execute(query)]

    def export(self, out) -> int:
        """Write every seal to the text stream ``out``, one line each; return how many."""
        count = 0
        for record in self.records():
            out.write(record.line() + "\n")
            count += 1
        return count

    def audit(self, records: list[SealRecord], keys: dict[str, Ed25519PublicKey]):
        """The journal checked against ``records`` (an exported log) trusting ``keys``:
        a :class:`engine.seal_audit.SealReport`."""
        from .seal_audit import verify_seals

        with self.db.sessions() as session:
            return verify_seals(session, records, keys)

    def proof(self, ref: str, sequence: int | None = None) -> dict:
        """The inclusion proof of dossier ``ref`` in seal ``sequence`` (default: the latest seal
        holding it): what :func:`verify_proof` checks with the public key alone."""
        for record in reversed(self.records(sequence)):
            if sequence is not None and record.sequence != sequence:
                continue
            for index, leaf in enumerate(record.leaves):
                if leaf[1] == ref:
                    path = merkle.inclusion_proof(index, leaf_hashes(record.leaves))
                    return {"format": PROOF_FORMAT, "header": record.header, "signature": record.signature,
                            "timestamp": record.timestamp, "leaf": leaf, "index": index,
                            "path": [p.hex() for p in path]}
        raise NotFound(f"Dossier {ref} is in no seal{'' if sequence is None else f' numbered {sequence}'}: "
                       "seal first (`dsdt seal`).", code="seal.not_sealed", params={"ref": ref})
