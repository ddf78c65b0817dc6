"""The diagram data of a dossier page: the BPMN files the dossier went through, with marks.

The main process comes first; then each phase (call activity) the dossier entered, in the
order of the main process. Done and current ids are the user tasks' (from the journal and the
open tasks); on the main process, a phase is "current" while one of its tasks is open and
"done" once the dossier went through it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True)
class _Process:
    path: str
    process_id: str
    name: str
    xml: str
    element_ids: frozenset[str]
    #: call activity id → called process id, in document order
    calls: tuple[tuple[str, str], ...]
    #: element id → its name in the diagram, for the elements that have one
    names: tuple[tuple[str, str], ...] = ()


def _read(path: str, content: bytes) -> _Process | None:
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    process = root.find(f"{{{BPMN_NS}}}process")
    if process is None:
        return None
    ids = frozenset(el.get("id") for el in process.iter() if el.get("id"))
    calls = tuple(
        (el.get("id"), el.get("calledElement"))
        for el in process.iter(f"{{{BPMN_NS}}}callActivity")
        if el.get("id") and el.get("calledElement")
    )
    return _Process(
        path,
        process.get("id", ""),
        process.get("name") or process.get("id", ""),
        content.decode("utf-8"),
        ids,
        calls,
        tuple((el.get("id"), el.get("name").strip()) for el in process.iter() if el.get("id") and el.get("name")),
    )


def _processes(files: dict[str, bytes]) -> dict[str, _Process]:
    """Every executable process of the ``.bpmn`` files, by process id."""
    processes = {}
    for path, content in sorted(files.items()):
        if path.endswith(".bpmn"):
            found = _read(path, content)
            if found is not None:
                processes[found.process_id] = found
    return processes


def ordered_processes(files: dict[str, bytes], main_process: str) -> list[_Process]:
    """Every process of ``files``: the main one first, then the phases it calls, in its order
    (empty when the main process is missing)."""
    processes = _processes(files)
    main = processes.get(main_process)
    if main is None:
        return []
    called = dict.fromkeys(called for _, called in main.calls if called in processes and called != main_process)
    return [main, *(processes[called] for called in called)]


def diagram_data(files: dict[str, bytes], done: list[str], current: list[str], *, main_process: str) -> list[dict]:
    """The diagrams to show, main process first (``main_process``: the id the deployment's contract
    names), each ``{process, name, main, calledBy, xml, done, current}``."""
    processes = _processes(files)
    main = processes.get(main_process)
    if main is None:
        return []
    done_ids, current_ids = set(done), set(current)
    phases, main_done, main_current = [], [], []
    for call_id, called in main.calls:
        phase = processes.get(called)
        if phase is None:
            continue
        phase_done = sorted(done_ids & phase.element_ids)
        phase_current = sorted(current_ids & phase.element_ids)
        if not phase_done and not phase_current:
            continue  # never reached
        (main_current if phase_current else main_done).append(call_id)
        phases.append(
            {
                "process": phase.process_id,
                "name": phase.name,
                "main": False,
                "calledBy": call_id,
                "xml": phase.xml,
                "done": phase_done,
                "current": phase_current,
            }
        )
    main_entry = {
        "process": main.process_id,
        "name": main.name,
        "main": True,
        "calledBy": None,
        "xml": main.xml,
        "done": main_done,
        "current": main_current,
    }
    return [main_entry, *phases]
