"""The journal: an append-only, hash-chained log of the commands applied to each instance.

Each entry's hash covers its instance, sequence number, command, actor, instant, payload, the
fingerprint of the state it produced, and the previous entry's hash. The instance row keeps the
head hash and sequence, so a changed, deleted, inserted or reordered row breaks the chain
(:func:`check_chain`), and replay (:mod:`engine.replay`) checks the states themselves.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from .persistence.models import Instance, JournalEntry
from .persistence.raw import RawStatement

_TABLE = JournalEntry.__table__
_COLUMNS = ("instance_id", "seq", "command", "actor", "at", "payload", "state_hash", "prev_hash", "entry_hash")
_INSERT = RawStatement(
    f"INSERT INTO journal_entry ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + name for name in _COLUMNS)})",
    {name: _TABLE.c[name] for name in _COLUMNS},
)
_TAIL = RawStatement(
    "SELECT seq, command, at, payload FROM journal_entry WHERE instance_id = :instance_id AND seq > :after "
    "ORDER BY seq",
    {"instance_id": _TABLE.c.instance_id, "after": _TABLE.c.seq},
    [_TABLE.c.seq, _TABLE.c.command, _TABLE.c.at, _TABLE.c.payload],
)


@dataclass(frozen=True, slots=True)
class TailEntry:
    """What replaying an entry needs (see :func:`engine.replay.rebuild`)."""

    seq: int
    command: str
    at: datetime
    payload: dict


def entry_hash(
    instance_id: int,
    seq: int,
    command: str,
    actor: str,
    at: datetime,
    payload: dict,
    state_hash: str,
    prev_hash: str,
) -> str:
    """sha256 of the entry's canonical JSON (sorted keys, no spaces, UTF-8)."""
    body = orjson.dumps(
        [instance_id, seq, command, actor, at.isoformat(), payload, state_hash, prev_hash],
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def _legacy_entry_hash(*fields) -> str:
    """The hash entries written before orjson had: the same canonical JSON as ``json`` writes it."""
    instance_id, seq, command, actor, at, payload, state_hash, prev_hash = fields
    body = json.dumps([instance_id, seq, command, actor, at.isoformat(), payload, state_hash, prev_hash],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    connection: Connection,
    instance: Instance,
    command: str,
    actor: str,
    at: datetime,
    payload: dict,
    state_hash: str,
) -> str:
    """Append one entry (a raw insert: nothing reads it back in this transaction); return its hash."""
    seq = instance.journal_seq + 1
    prev = instance.journal_head
    digest = entry_hash(instance.id, seq, command, actor, at, payload, state_hash, prev)
    _INSERT.defer(connection, {
        "instance_id": instance.id, "seq": seq, "command": command, "actor": actor, "at": at,
        "payload": payload, "state_hash": state_hash, "prev_hash": prev, "entry_hash": digest})
    instance.journal_seq = seq
    instance.journal_head = digest
    return digest


def entries(session: Session, instance_id: int) -> list[JournalEntry]:
    return list(
        session.scalars(
            select(JournalEntry)
            .where(JournalEntry.instance_id == instance_id)
            .order_by(JournalEntry.seq, JournalEntry.id)
        )
    )


def entries_after(connection: Connection, instance_id: int, seq: int) -> list[TailEntry]:
    """The entries after ``seq`` (what a load replays onto the stored state), oldest first."""
    return [TailEntry(*row) for row in _TAIL.all(connection, {"instance_id": instance_id, "after": seq})]


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    problem: str | None = None
    entry: int | None = None  # the first entry in cause (seq), when the chain breaks


def check_chain(instance: Instance, rows: list[JournalEntry]) -> ChainReport:
    """Check sequence, links and hashes of an instance's journal against its stored head."""
    prev = ""
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return ChainReport(
                False, f"entry {expected_seq} is missing or out of order (found seq {row.seq})", expected_seq
            )
        if row.prev_hash != prev:
            return ChainReport(False, f"entry {row.seq} does not link to the entry before it", row.seq)
        fields = (row.instance_id, row.seq, row.command, row.actor, row.at, row.payload, row.state_hash,
                  row.prev_hash)
        if entry_hash(*fields) != row.entry_hash and _legacy_entry_hash(*fields) != row.entry_hash:
            return ChainReport(False, f"entry {row.seq} was altered (its hash does not match its content)", row.seq)
        prev = row.entry_hash
    if len(rows) != instance.journal_seq or prev != instance.journal_head:
        # entries missing at the end: the first one absent; one too many: the first extra one;
        # as many as recorded: the last one is not the one recorded
        entry = len(rows) + 1 if len(rows) < instance.journal_seq else min(len(rows), instance.journal_seq + 1)
        return ChainReport(False, "the journal's last entry is not the one the instance recorded", entry)
    return ChainReport(True)


def recomputed_hashes(rows: list[JournalEntry]) -> dict[int, str]:
    """Each entry's hash recomputed from the content of ``rows`` alone (oldest first), ignoring the
    stored ``prev_hash`` and ``entry_hash``: what the chain is if nothing was changed since.

    Whoever rewrites an entry and recomputes the stored hashes after it gets the same values, so
    only a head kept elsewhere (a seal, :mod:`engine.seals`) tells the two apart. An entry whose
    stored hash is the pre-orjson one (:func:`_legacy_entry_hash`) is recomputed that way.
    """
    hashes, prev = {}, ""
    for row in rows:
        fields = (row.instance_id, row.seq, row.command, row.actor, row.at, row.payload, row.state_hash, prev)
        digest = entry_hash(*fields)
        if digest != row.entry_hash and _legacy_entry_hash(*fields) == row.entry_hash:
            digest = row.entry_hash
        hashes[row.seq] = prev = digest
    return hashes
