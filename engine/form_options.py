"""Choices a form field takes from the dossier's data: ``x-options-from``.

A field of a form schema annotated ``"x-options-from": "campagne.epci.{epci}.priorites"`` offers,
and accepts, only the values of the list at that path of the data its task sees: dot-separated
keys, ``{name}`` standing for the value of the data field ``name``. The fiche synthétique's
priority is one: the priorities the dossier's campaign snapshot offers its EPCI, which come from
the EPCI's signed convention (:mod:`engine.conventions`). The page renders them as a list to
choose from, the API returns the bound schema, and the engine validates a completion against it.
A path that leads nowhere (a dossier started before, an EPCI not chosen yet) leaves the field as
the schema has it. A path that leads to an empty list offers nothing: no value is accepted, and
the field's description becomes its ``x-options-empty`` text, which says why (an EPCI without a
signed convention in a campaign that offers only signed priorities).
"""

from __future__ import annotations

import copy
import re

ANNOTATION = "x-options-from"
#: the text shown in place of the field's description when the list of choices is empty
EMPTY = "x-options-empty"
_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
#: at most this many choices are offered (a list in the data is bounded by its own form)
MAX_OPTIONS = 200


def has_options(schema: dict) -> bool:
    """Whether a field of the form (top level) takes its choices from the data."""
    return any(isinstance(sub, dict) and ANNOTATION in sub for sub in (schema.get("properties") or {}).values())


def options(path: str, data: dict) -> list[str] | None:
    """The values at ``path`` in ``data`` (strings only; an empty list when it holds none), or None
    if the path leads to no list."""
    node: object = data
    for key in path.split("."):
        match = _PLACEHOLDER.match(key)
        if match:
            key = data.get(match.group(1)) if isinstance(data, dict) else None
        if not isinstance(key, str) or not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    if not isinstance(node, list):
        return None
    return [value for value in node if isinstance(value, str)][:MAX_OPTIONS]


def bind_options(schema: dict, data: dict | None) -> dict:
    """``schema`` with each annotated field's ``enum`` set to its choices in ``data`` (a copy;
    ``schema`` itself when no field is annotated)."""
    if not has_options(schema):
        return schema
    bound = copy.deepcopy(schema)
    for sub in bound["properties"].values():
        if isinstance(sub, dict) and isinstance(sub.get(ANNOTATION), str):
            found = options(sub[ANNOTATION], data or {})
            if found:
                sub["enum"] = found
            elif found is not None:  # nothing to offer: no value is valid, and the form says why
                sub["enum"] = []
                if isinstance(sub.get(EMPTY), str):
                    sub["description"] = sub[EMPTY]
    return bound
