"""Exports for auditors and process-mining tools: the event log of chosen dossiers as XES, OCEL
2.0 JSON or CSV (:mod:`.events` reads it from the journal), and one dossier's archive for legal
archiving (:mod:`.archive`).

Bounds: one log holds at most :data:`MAX_DOSSIERS` dossiers (:data:`engine.audit.EXPORT_LIMIT`);
beyond, :class:`~engine.errors.Invalid` (``audit.export_too_large``) before a byte is written,
never a silently cut file. The traces are read :data:`.events.CHUNK` dossiers at a time and
written as they come.
"""

from __future__ import annotations

from typing import BinaryIO

from ..audit import EXPORT_LIMIT, Audit, AuditFilter
from ..errors import Invalid
from .archive import MAX_ARCHIVE_BYTES, write_archive
from .csv_log import write_csv
from .events import Event, EventLog, Trace
from .ocel import write_ocel
from .xes import write_xes

#: the formats of the event log → (media type, file extension)
FORMATS = {
    "xes": ("application/xml", "xes"),
    "ocel": ("application/json", "jsonocel"),
    "csv": ("text/csv", "csv"),
}
MAX_DOSSIERS = EXPORT_LIMIT

__all__ = ["FORMATS", "MAX_ARCHIVE_BYTES", "MAX_DOSSIERS", "Event", "EventLog", "Exports", "Trace"]


class Exports:
    """The exports of a :class:`~engine.service.WorkflowEngine`'s dossiers (read-only)."""

    def __init__(self, engine, sealer=None):
        self.engine = engine
        self.sealer = sealer  # a Sealer: the archive's seal proof comes from its seal log

    def dossier_ids(self, flt: AuditFilter, limit: int | None = None) -> list[int]:
        """The dossiers ``flt`` selects (the audit search's filter); :class:`Invalid` beyond
        ``limit`` (default :data:`MAX_DOSSIERS`)."""
        return [row.id for row in Audit(self.engine).export(flt, limit or MAX_DOSSIERS)]

    def write_log(self, fmt: str, instance_ids: list[int], out: BinaryIO) -> tuple[int, int]:
        """The event log of ``instance_ids`` in ``fmt`` (one of :data:`FORMATS`) written to
        ``out``; returns (traces, events) written."""
        if fmt not in FORMATS:
            raise Invalid(f"Unknown export format {fmt!r}: one of {', '.join(FORMATS)}",
                          code="export.format", params={"value": fmt, "formats": ", ".join(FORMATS)})
        if len(instance_ids) > MAX_DOSSIERS:
            raise Invalid(f"{len(instance_ids)} dossiers; export {MAX_DOSSIERS} at most at once",
                          code="audit.export_too_large", params={"total": len(instance_ids), "limit": MAX_DOSSIERS})
        traces = EventLog(self.engine).traces(instance_ids)
        if fmt == "xes":
            return write_xes(traces, out)
        if fmt == "csv":
            return write_csv(traces, out)
        return write_ocel(traces, out, self.engine.db)

    def archive(self, instance_id: int, out: BinaryIO) -> list[str]:
        """One dossier's archive (a zip) written to ``out``; returns the paths it holds."""
        return write_archive(self.engine, instance_id, out, self.sealer)
