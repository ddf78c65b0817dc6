"""Who may read what a dossier's steps recorded: the audiences its forms declare.

The rule lives in the engine, next to the forms it reads, so that every reader (the pages, the
API, a future export) applies the same one; who the reader is (porteur of the dossier, staff in
its scope, overseer) is decided by the caller's access rules and handed in as a :class:`Reader`.

Each form's JSON Schema declares, as data, who reads back what its step recorded: an
``x-audience`` annotation on the schema is the default of its fields, one on a top-level field
overrides it for that field (and everything nested in it):

- ``porteur``: addressed to the porteur (their own submissions, a request with its reason, a
  decision with its motivation): read by the porteur and by staff who see the dossier;
- ``staff``: internal (a technician's opinion, the president's reasons): staff only;
- ``author``: personal (a jury member's scores and comment): read only by whoever submitted it
  and by the overseeing roles (:data:`OVERSEERS`).

A form or field without annotation is ``staff``: a new form tells the porteur nothing until its
author says so. ``x-collected-in`` on a schema names the workflow variables its submissions are
gathered into (the jury's ``evaluations``): they carry the form's audience. Workflow variables
that no form declares (campaign snapshot, jury composition, computed averages) are internal.

A document (an attachment of the dossier) has the audience of the fields that name it
(:func:`may_read_document`): a file attached to a staff-only field is not the porteur's to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import roles
from .forms import attachment_values

PORTEUR, STAFF, AUTHOR = "porteur", "staff", "author"
AUDIENCES = (PORTEUR, STAFF, AUTHOR)
ANNOTATION = "x-audience"
COLLECTED_IN = "x-collected-in"

#: roles that read every personal record of a dossier they see (the jury's individual scores)
OVERSEERS = frozenset({roles.INSTRUCTEUR, roles.PRESIDENT_JURY, roles.AUDITOR, roles.ADMIN, roles.PROCESS_OWNER})


@dataclass(frozen=True)
class Reader:
    """Someone reading one dossier, as the caller's access rules qualified them for it."""

    login: str
    porteur: bool  # the dossier's porteur
    staff: bool  # sees the dossier through a staff role (EPCI scope, jury session…)
    overseer: bool  # reads every personal record (see OVERSEERS)


def audiences(schema: dict) -> tuple[str, dict[str, str]]:
    """The form's default audience and its per-field overrides."""
    default = schema.get(ANNOTATION, STAFF)
    fields = {
        name: prop[ANNOTATION]
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and ANNOTATION in prop
    }
    return default, fields


def check_annotations(schema: dict) -> list[str]:
    """What is wrong with a form's annotations (empty when they are sound), for the deploy checks."""
    default, fields = audiences(schema)
    problems = [f"{ANNOTATION} {value!r} of {where} is not one of {', '.join(AUDIENCES)}"
                for where, value in [("the form", default), *fields.items()] if value not in AUDIENCES]
    collected = schema.get(COLLECTED_IN, [])
    if not isinstance(collected, list) or not all(isinstance(name, str) for name in collected):
        problems.append(f"{COLLECTED_IN} must be a list of variable names")
    return problems


def may_read(reader: Reader, audience: str, author: str | None) -> bool:
    """Whether ``reader`` may read a record of ``audience`` submitted by ``author`` (None: unknown)."""
    if audience == PORTEUR:
        return reader.porteur or reader.staff
    if audience == STAFF:
        return reader.staff
    if audience == AUTHOR:
        return (reader.staff and reader.overseer) or (author is not None and author == reader.login)
    return False  # an audience nobody declared: shown to nobody rather than to everybody


def step_data(reader: Reader, schema: dict, data: dict, author: str | None) -> dict:
    """The fields of one step's submission ``data`` that ``reader`` may read."""
    if not isinstance(data, dict):
        return {}
    default, fields = audiences(schema)
    return {name: value for name, value in data.items() if may_read(reader, fields.get(name, default), author)}


def variable_forms(forms_by_variable: Iterable[tuple[str, dict]]) -> tuple[dict[str, dict], dict[str, dict]]:
    """``(variable → schema of the form stored in it, variable → schema of the form collected in it)``
    from the steps' ``(form variable, form schema)`` pairs."""
    stored: dict[str, dict] = {}
    collected: dict[str, dict] = {}
    for variable, schema in forms_by_variable:
        stored[variable] = schema
        for name in schema.get(COLLECTED_IN, []):
            collected[name] = schema
    return stored, collected


def workflow_data(
    reader: Reader, data: dict, stored: dict[str, dict], collected: dict[str, dict], own: str | None = None
) -> dict:
    """The part of a dossier's workflow ``data`` that ``reader`` may read.

    ``stored``/``collected``: from :func:`variable_forms`. ``own``: the form variable of the task
    the reader is working on (what it holds is theirs).
    """
    shown = {}
    for key, value in data.items():
        if key in stored:
            fields = step_data(reader, stored[key], value, reader.login if key == own else None)
            if fields:
                shown[key] = fields
        elif key in collected:
            if may_read(reader, audiences(collected[key])[0], None):
                shown[key] = value
        elif reader.staff:
            shown[key] = value
    return shown


def document_refs(reader: Reader, submissions: Iterable[tuple[dict, dict, str | None]]) -> tuple[set, set]:
    """``(references the reader may read, every reference)`` held by the attachment fields of the
    dossier's submissions, each ``(form schema, data, author)``."""
    readable: set = set()
    held: set = set()
    for schema, data, author in submissions:
        if not isinstance(data, dict):
            continue
        held.update(value for _, value in attachment_values(schema, data) if isinstance(value, str))
        shown = step_data(reader, schema, data, author)
        readable.update(value for _, value in attachment_values(schema, shown) if isinstance(value, str))
    return readable, held


def may_read_document(reader: Reader, ref: str, uploaded_by: str, refs: tuple[set, set]) -> bool:
    """Whether ``reader`` may read the document ``ref`` uploaded by ``uploaded_by``, given
    :func:`document_refs`: their own upload; one a field they may read names; or, for staff, one
    no submitted field names yet (a draft's upload)."""
    readable, held = refs
    return uploaded_by == reader.login or ref in readable or (reader.staff and ref not in held)
