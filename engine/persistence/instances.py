"""Instance rows read and written on the command path, with raw statements (:mod:`.raw`).

A command touches one instance row twice (read, then a versioned update); going through the ORM
(or even Core) for that cost more than the statements themselves. The ORM model
(:class:`~engine.persistence.models.Instance`) still serves every other read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Connection

from .models import Instance
from .raw import RawStatement

_TABLE = Instance.__table__


@dataclass(slots=True)
class InstanceRecord:
    """The columns a command reads and writes (the large ``state`` only when needed)."""

    id: int
    ref: str
    deployment_id: int
    campaign_code: str
    porteur: str
    epci: str | None
    title: str | None
    status: str
    outcome: str | None
    reason: str | None
    jury_type: str | None
    serializer_version: str
    claims: dict
    journal_seq: int
    journal_head: str
    version: int
    next_timer_at: datetime | None
    created_at: datetime
    updated_at: datetime
    state_seq: int = 0
    #: the process family (``engine.contract``), set at creation
    family: str = "candidature"
    #: the serialized state, when loaded or about to be stored (see :func:`write`)
    state: str | None = None


_CHECKPOINT = ("state", "state_seq", "serializer_version")
#: columns set only when the dossier closes, and its reference only once, at the start: they are
#: indexed, and SQLite rewrites an index entry for every column an UPDATE sets, changed or not.
_CLOSING = ("status", "outcome", "reason")
_READ = [f.name for f in fields(InstanceRecord) if f.name != "state"]
_WRITTEN = [f.name for f in fields(InstanceRecord) if f.name not in ("id", "version", "deployment_id", "family",
                                                                      "campaign_code", "porteur", "created_at",
                                                                      "ref", *_CLOSING, *_CHECKPOINT)]

_FETCH = RawStatement(f"SELECT {', '.join(_READ)} FROM instance WHERE id = :id",
                      {"id": _TABLE.c.id}, [_TABLE.c[name] for name in _READ])
# PostgreSQL only (SQLite has one writer and no row locks): a command locks its instance row
# before anything else, so commands and timer workers take their locks in one order.
_FETCH_LOCKED = RawStatement(f"{_FETCH.sql} FOR UPDATE", _FETCH.binds, _FETCH.results)
_FETCH_SKIP_LOCKED = RawStatement(f"{_FETCH.sql} FOR UPDATE SKIP LOCKED", _FETCH.binds, _FETCH.results)
_FETCH_STATE = RawStatement("SELECT state FROM instance WHERE id = :id", {"id": _TABLE.c.id}, [_TABLE.c.state])


@functools.cache
def _write_statement(columns: tuple[str, ...]) -> RawStatement:
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    return RawStatement(
        f"UPDATE instance SET version = :new_version, {assignments} WHERE id = :id AND version = :version",
        {"new_version": _TABLE.c.version, "id": _TABLE.c.id, "version": _TABLE.c.version,
         **{name: _TABLE.c[name] for name in columns}},
    )


_CREATED = [f.name for f in fields(InstanceRecord) if f.name != "id"]
# RETURNING: SQLite 3.35+ and PostgreSQL.
_CREATE = RawStatement(
    f"INSERT INTO instance ({', '.join(_CREATED)}) VALUES ({', '.join(':' + name for name in _CREATED)}) RETURNING id",
    {name: _TABLE.c[name] for name in _CREATED}, [_TABLE.c.id])
_VERSION = RawStatement("SELECT version, status FROM instance WHERE id = :id", {"id": _TABLE.c.id})


def fetch(connection: Connection, instance_id: int, lock: bool = False,
          skip_locked: bool = False) -> InstanceRecord | None:
    """The instance's record, or ``None``. ``lock`` (PostgreSQL): lock its row for the transaction
    (``FOR UPDATE``), waiting for the command that holds it; ``skip_locked`` as well: ``None``
    at once if another transaction holds it."""
    statement = (_FETCH_SKIP_LOCKED if skip_locked else _FETCH_LOCKED) if lock else _FETCH
    row = statement.first(connection, {"id": instance_id})
    return None if row is None else InstanceRecord(*row)


def fetch_state(connection: Connection, record: InstanceRecord) -> str:
    return _FETCH_STATE.first(connection, {"id": record.id})[0]


def version_and_status(connection: Connection, instance_id: int) -> tuple[int, str] | None:
    """``(version, status)`` of an instance, or ``None``: what a reader checks its cache against."""
    return _VERSION.first(connection, {"id": instance_id})


def create(connection: Connection, **values) -> InstanceRecord:
    """Insert a new instance (version 1, empty state) and return its record."""
    values = {"state": "", "state_seq": 0, "claims": {}, "journal_seq": 0, "journal_head": "", "status": "running",
              "version": 1, "epci": None, "title": None, "outcome": None, "reason": None, "jury_type": None,
              "next_timer_at": None, **values}
    (instance_id,) = _CREATE.first(connection, values)
    return InstanceRecord(id=instance_id, **values)


def write(connection: Connection, record: InstanceRecord, checkpoint: bool = False, created: bool = False) -> bool:
    """Store the record if the row still has its version (then bump it); False if it changed.

    The serialized state (and ``state_seq``) is written only with ``checkpoint``: most commands
    leave the stored state as it is and are replayed from the journal on load. ``created``: the
    first write after :func:`create`, which sets the reference.
    """
    columns = (*_WRITTEN, *(_CLOSING if record.status != "running" else ()), *(_CHECKPOINT if checkpoint else ()),
               *(("ref",) if created else ()))
    values = {name: getattr(record, name) for name in columns}
    changed = _write_statement(columns).execute(
        connection, {"id": record.id, "version": record.version, "new_version": record.version + 1, **values})
    if changed != 1:
        return False
    record.version += 1
    return True
