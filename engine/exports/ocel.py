"""The event log as OCEL 2.0 JSON: the object-centric view, where an event can concern several
objects at once and no single "case" is imposed.

Object types and their ids:

- ``dossier`` (``dossier:<ref>``): reference, title, status, outcome, reason, process version;
  related to its porteur (``submitted by``), EPCI (``in territory``), campaign (``answers``) and,
  once it went before one, its jury session (``examined by``);
- ``porteur`` (``porteur:<login>``);
- ``EPCI`` (``epci:<code>``): its name as the campaign lists it;
- ``campaign`` (``campaign:<code>``): its label;
- ``jury session`` (``jury:<campaign>:regional`` or ``jury:<campaign>:territorial:<EPCI>``): the
  jury's type, president and quorum, as the campaign declares them (the sessions have no date in
  the data: the date a session sat is the time of its members' events).

Events are those of :mod:`engine.exports.events` (id ``<ref>:<journal seq>``), with the login,
role, journal entry and BPMN id as attributes, related to their dossier (``concerns``), to the
porteur for the porteur's own events (``by``), to the dossier's jury session for a jury member's
(``sitting of``), and the start to the campaign and the EPCI (``opened in``, ``for territory``).

Events are written as the traces come (one trace in memory at a time); the objects, one per
dossier, porteur, EPCI, campaign and jury session, are gathered on the way and written last.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO

from .. import campaigns, roles
from ..errors import NotFound
from .events import START, WITHDRAWAL, Trace

DOSSIER, PORTEUR, EPCI, CAMPAIGN, JURY = "dossier", "porteur", "EPCI", "campaign", "jury session"
#: attribute name → OCEL type, per object type
OBJECT_TYPES = {
    DOSSIER: {"reference": "string", "title": "string", "status": "string", "outcome": "string",
              "reason": "string", "version": "integer"},
    PORTEUR: {"login": "string"},
    EPCI: {"code": "string", "name": "string"},
    CAMPAIGN: {"code": "string", "label": "string"},
    JURY: {"jury_type": "string", "president": "string", "quorum": "integer"},
}
EVENT_ATTRIBUTES = {"resource": "string", "role": "string", "seq": "integer", "bpmn_id": "string"}
JURY_ROLES = frozenset({roles.JURY_TERRITORIAL, roles.JURY_REGIONAL, roles.PRESIDENT_JURY})
REGIONAL = "regional"


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _attributes(values: dict, at: str) -> list[dict]:
    return [{"name": name, "time": at, "value": value} for name, value in values.items() if value is not None]


class _Objects:
    """The objects met so far, each once, with the campaigns' data read once per campaign."""

    def __init__(self, db):
        self.db = db
        self.found: dict[str, dict] = {}
        self.campaigns: dict[str, tuple[str, dict]] = {}

    def campaign(self, code: str) -> tuple[str, dict]:
        if code not in self.campaigns:
            with self.db.engine.connect() as connection:
                try:
                    row = campaigns.get(connection, code)  # its data with the juries sitting for it
                except NotFound:
                    row = None
                self.campaigns[code] = (row.libelle, row.data or {}) if row is not None else (code, {})
        return self.campaigns[code]

    def add(self, oid: str, kind: str, values: dict, at: str, related: list[dict] | None = None) -> str:
        if oid not in self.found:
            self.found[oid] = {"id": oid, "type": kind, "attributes": _attributes(values, at),
                              "relationships": related or []}
        return oid

    def jury(self, trace: Trace, at: str) -> str | None:
        if not trace.jury_type:
            return None
        juries = self.campaign(trace.campaign)[1].get("jurys") or {}
        if trace.jury_type == REGIONAL:
            oid, session = f"jury:{trace.campaign}:{REGIONAL}", juries.get(REGIONAL) or {}
        else:
            oid = f"jury:{trace.campaign}:{trace.jury_type}:{trace.epci}"
            session = (juries.get("territoriaux") or {}).get(trace.epci) or {}
        return self.add(oid, JURY, {"jury_type": trace.jury_type, "president": session.get("president"),
                                    "quorum": session.get("quorum")}, at)

    def dossier(self, trace: Trace) -> dict[str, str | None]:
        """Every object of ``trace``'s dossier, by type (None: it has none of that type)."""
        at = trace.created_at.isoformat()
        label, data = self.campaign(trace.campaign)
        ids: dict[str, str | None] = {
            PORTEUR: self.add(f"porteur:{trace.porteur}", PORTEUR, {"login": trace.porteur}, at),
            CAMPAIGN: self.add(f"campaign:{trace.campaign}", CAMPAIGN, {"code": trace.campaign, "label": label}, at),
            EPCI: None, JURY: self.jury(trace, at),
        }
        if trace.epci:
            name = ((data.get("epci") or {}).get(trace.epci) or {}).get("nom")
            ids[EPCI] = self.add(f"epci:{trace.epci}", EPCI, {"code": trace.epci, "name": name}, at)
        related = [{"objectId": oid, "qualifier": qualifier} for oid, qualifier in (
            (ids[PORTEUR], "submitted by"), (ids[EPCI], "in territory"), (ids[CAMPAIGN], "answers"),
            (ids[JURY], "examined by")) if oid]
        ids[DOSSIER] = self.add(f"dossier:{trace.ref}", DOSSIER, {
            "reference": trace.ref, "title": trace.title, "status": trace.status, "outcome": trace.outcome,
            "reason": trace.reason, "version": trace.version}, at, related)
        return ids


def _events(trace: Trace, ids: dict[str, str | None]) -> list[dict]:
    found = []
    for event in trace.events:
        related = [(ids[DOSSIER], "concerns")]
        if event.role == roles.PORTEUR:
            related.append((ids[PORTEUR], "by"))
        if event.role in JURY_ROLES:
            related.append((ids[JURY], "sitting of"))
        if event.kind == START:
            related += [(ids[CAMPAIGN], "opened in"), (ids[EPCI], "for territory")]
        if event.kind == WITHDRAWAL:
            related.append((ids[EPCI], "for territory"))
        found.append({
            "id": f"{trace.ref}:{event.seq}", "type": event.activity, "time": event.at.isoformat(),
            "attributes": [{"name": name, "value": value} for name, value in (
                ("resource", event.resource), ("role", event.role), ("seq", event.seq),
                ("bpmn_id", event.bpmn_id)) if value is not None],
            "relationships": [{"objectId": oid, "qualifier": q} for oid, q in related if oid],
        })
    return found


def write_ocel(traces: Iterable[Trace], out: BinaryIO, db) -> tuple[int, int]:
    """Write ``traces`` to ``out`` as one OCEL 2.0 JSON document; return (traces, events) written.
    ``db``: the :class:`~engine.persistence.db.Database` holding the campaigns."""
    objects = _Objects(db)
    activities: set[str] = set()
    count = events = 0
    out.write(b'{"events":[')
    for trace in traces:
        for item in _events(trace, objects.dossier(trace)):
            out.write((b"," if events else b"") + b"\n" + _dumps(item))
            activities.add(item["type"])
            events += 1
        count += 1
    out.write(b'\n],"objects":[')
    for index, item in enumerate(objects.found.values()):
        out.write((b"," if index else b"") + b"\n" + _dumps(item))
    event_types = [{"name": name, "attributes": [{"name": key, "type": kind} for key, kind in
                                                  EVENT_ATTRIBUTES.items()]} for name in sorted(activities)]
    object_types = [{"name": name, "attributes": [{"name": key, "type": kind} for key, kind in attributes.items()]}
                    for name, attributes in OBJECT_TYPES.items()]
    out.write(b'\n],"eventTypes":' + _dumps(event_types) + b',"objectTypes":' + _dumps(object_types) + b"}\n")
    return count, events
