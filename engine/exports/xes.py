"""The event log as XES (IEEE 1849-2016), the format process-mining tools read first.

One ``<trace>`` per dossier, its ``concept:name`` the dossier's reference, with the dossier's
reference, campaign, EPCI, porteur, outcome, reason, process version and status as trace
attributes (an unknown value is left out, as XES has no null). One ``<event>`` per event of
:mod:`engine.exports.events`, with ``concept:name`` (the step's name), ``org:resource`` (the
login), ``org:role`` (absent for the system), ``time:timestamp`` (UTC) and
``lifecycle:transition`` ``complete``; plus the journal entry (``dsdt:seq``) and the BPMN id.

Written trace by trace to a binary stream: memory holds one trace, never the log.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import BinaryIO

from .events import LIFECYCLE, Trace

NAMESPACE = "http://www.xes-standard.org/"
_HEAD = f"""<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="{NAMESPACE}">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00+00:00"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
  <string key="concept:name" value="DSDT"/>
"""
_TAIL = "</log>\n"
#: characters XML 1.0 cannot hold (typed text could carry them): dropped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _attribute(parent: ET.Element, kind: str, key: str, value) -> None:
    if value is None or value == "":
        return
    ET.SubElement(parent, kind, key=key, value=_NOT_XML.sub("", str(value)))


def trace_element(trace: Trace) -> ET.Element:
    """The ``<trace>`` element of one dossier."""
    element = ET.Element("trace")
    _attribute(element, "string", "concept:name", trace.ref)
    for key, value in (("reference", trace.ref), ("campaign", trace.campaign), ("epci", trace.epci),
                       ("porteur", trace.porteur), ("outcome", trace.outcome), ("reason", trace.reason),
                       ("status", trace.status), ("jury_type", trace.jury_type)):
        _attribute(element, "string", key, value)
    _attribute(element, "int", "version", trace.version)
    for event in trace.events:
        node = ET.SubElement(element, "event")
        _attribute(node, "string", "concept:name", event.activity)
        _attribute(node, "string", "org:resource", event.resource)
        _attribute(node, "string", "org:role", event.role)
        _attribute(node, "date", "time:timestamp", event.at.isoformat())
        _attribute(node, "string", "lifecycle:transition", LIFECYCLE)
        _attribute(node, "int", "dsdt:seq", event.seq)
        _attribute(node, "string", "dsdt:kind", event.kind)
        _attribute(node, "string", "dsdt:bpmn_id", event.bpmn_id)
    return element


def write_xes(traces: Iterable[Trace], out: BinaryIO) -> tuple[int, int]:
    """Write ``traces`` to ``out`` as one XES document; return (traces, events) written."""
    out.write(_HEAD.encode())
    count = events = 0
    for trace in traces:
        element = trace_element(trace)
        ET.indent(element, "  ", level=1)
        out.write(b"  " + ET.tostring(element, encoding="utf-8", xml_declaration=False) + b"\n")
        count += 1
        events += len(trace.events)
    out.write(_TAIL.encode())
    return count, events
