"""Instance rows read and written with Core statements on the command path.

A command touches one instance row twice (read, then a versioned update); going through the ORM's
identity map and unit of work for that cost more than the statements themselves. The ORM model
(:class:`~engine.persistence.models.Instance`) still serves every other read.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from .models import Instance

_TABLE = Instance.__table__


@dataclass
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
    #: the serialized state, when loaded or about to be stored (see :func:`write`)
    state: str | None = None


_CHECKPOINT = ("state", "state_seq", "serializer_version")
_COLUMNS = [_TABLE.c[f.name] for f in fields(InstanceRecord) if f.name != "state"]
_WRITTEN = [f.name for f in fields(InstanceRecord) if f.name not in ("id", "version", "deployment_id",
                                                                      "campaign_code", "porteur", "created_at",
                                                                      *_CHECKPOINT)]


# Statements built once: constructing them costs more than running them, on every command.
_FETCH = select(*_COLUMNS).where(_TABLE.c.id == bindparam("instance_id"))
_FETCH_STATE = select(_TABLE.c.state).where(_TABLE.c.id == bindparam("instance_id"))


def _write_statement(columns):
    return (update(_TABLE).where(_TABLE.c.id == bindparam("of_instance"), _TABLE.c.version == bindparam("old_version"))
            .values(version=bindparam("new_version"), **{name: bindparam(f"new_{name}") for name in columns}))


_WRITE = _write_statement(_WRITTEN)
_WRITE_CHECKPOINT = _write_statement([*_WRITTEN, *_CHECKPOINT])
_VERSION = select(_TABLE.c.version, _TABLE.c.status).where(_TABLE.c.id == bindparam("instance_id"))


def fetch(session: Session, instance_id: int) -> InstanceRecord | None:
    row = session.connection().execute(_FETCH, {"instance_id": instance_id}).first()
    return None if row is None else InstanceRecord(**row._mapping)


def fetch_state(session: Session, record: InstanceRecord) -> str:
    return session.connection().execute(_FETCH_STATE, {"instance_id": record.id}).scalar_one()


def version_and_status(session: Session, instance_id: int):
    """``(version, status)`` of an instance, or ``None``: what a reader checks its cache against."""
    return session.connection().execute(_VERSION, {"instance_id": instance_id}).first()


def create(session: Session, **values) -> InstanceRecord:
    """Insert a new instance (version 1, empty state) and return its record."""
    values = {"state": "", "state_seq": 0, "claims": {}, "journal_seq": 0, "journal_head": "", "status": "running",
              "version": 1,
              "epci": None, "title": None, "outcome": None, "reason": None, "jury_type": None,
              "next_timer_at": None, **values}
    result = session.connection().execute(insert(_TABLE).values(values))
    return InstanceRecord(id=result.inserted_primary_key[0], **values)


def write(session: Session, record: InstanceRecord, checkpoint: bool = False) -> bool:
    """Store the record if the row still has its version (then bump it); False if it changed.

    The serialized state (and ``state_seq``) is written only with ``checkpoint``: most commands
    leave the stored state as it is and are replayed from the journal on load.
    """
    columns = [*_WRITTEN, *_CHECKPOINT] if checkpoint else _WRITTEN
    values = {f"new_{name}": getattr(record, name) for name in columns}
    result = session.connection().execute(_WRITE_CHECKPOINT if checkpoint else _WRITE,
                                          {"of_instance": record.id, "old_version": record.version,
                                           "new_version": record.version + 1, **values})
    if result.rowcount != 1:
        return False
    record.version += 1
    return True
