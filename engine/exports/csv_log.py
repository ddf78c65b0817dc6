"""The event log as CSV: one row per XES event (:mod:`engine.exports.xes`), the dossier's
attributes repeated on each of its rows, as pandas and pm4py read a flat log.

Comma-separated UTF-8 with a header row (RFC 4180). A text cell a spreadsheet would run as a
formula (leading ``= + - @``, a tab or a carriage return) is prefixed with ``'``, as the audit
search's CSV is: a porteur's typed reason must not become a formula on an auditor's machine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import BinaryIO

from .events import LIFECYCLE, Trace

COLUMNS = ("case_id", "activity", "timestamp", "resource", "role", "lifecycle", "seq", "kind", "bpmn_id",
           "reference", "campaign", "epci", "porteur", "outcome", "reason", "status", "version")


def cell(value) -> str:
    """A CSV cell a spreadsheet shows as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(traces: Iterable[Trace], out: BinaryIO) -> tuple[int, int]:
    """Write ``traces`` to ``out`` as CSV rows; return (traces, events) written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        count = events = 0
        for trace in traces:
            for event in trace.events:
                writer.writerow([cell(value) for value in (
                    trace.ref, event.activity, event.at.isoformat(), event.resource, event.role, LIFECYCLE,
                    event.seq, event.kind, event.bpmn_id, trace.ref, trace.campaign, trace.epci, trace.porteur,
                    trace.outcome, trace.reason, trace.status, trace.version)])
            count += 1
            events += len(trace.events)
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open
    return count, events
