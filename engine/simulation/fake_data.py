"""Plausible form data generated from a JSON Schema, for simulated users.

It fills every property (so conditionally required fields are present) with values that respect
types, enums, bounds, formats and the simple patterns our forms use. Role behaviours then
override the fields that carry a decision.

An attachment field holds :data:`SAMPLE_REF`, the reference of :data:`SAMPLE_PDF`: the ``complete``
command accepts only files of the dossier, so a simulated person first uploads that file to it
(:func:`attach_sample`), as a real one does.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import date, timedelta

from ..attachments import PREFIX, AttachmentStore
from ..form_options import bind_options

WORDS = (
    "projet",
    "quartier",
    "habitants",
    "jeunes",
    "atelier",
    "jardin",
    "partagé",
    "insertion",
    "santé",
    "citoyenneté",
    "médiation",
    "numérique",
    "solidarité",
    "culture",
    "énergie",
    "emploi",
)
#: a tiny valid PDF: the file every simulated person attaches
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
#: what a generated attachment field holds: the reference of :data:`SAMPLE_PDF`
SAMPLE_REF = PREFIX + hashlib.sha256(SAMPLE_PDF).hexdigest()
_CLASS = re.compile(r"\[([^\]]+)\]|(.)")


def _sentence(rng: random.Random, min_length: int = 0) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))).capitalize() + "."
    while len(text) < min_length:
        text += " " + rng.choice(WORDS)
    return text


def _from_pattern(pattern: str, rng: random.Random) -> str:
    """Sample a string for patterns made of literals and ``[...]`` classes with ``{n}`` counts."""
    body = pattern.strip("^$")
    out = []
    for match in re.finditer(r"(\[[^\]]+\]|\\.|.)(\{(\d+)\})?", body):
        atom, count = match.group(1), int(match.group(3) or 1)
        if atom.startswith("["):
            chars = []
            for a, b in re.findall(r"(.)-(.)", atom[1:-1]):
                chars.extend(chr(c) for c in range(ord(a), ord(b) + 1))
            out.extend(rng.choice(chars) for _ in range(count))
        else:
            out.append(atom.lstrip("\\") * count)
    return "".join(out)


def _choices(schema: dict) -> list | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "oneOf" in schema and all("const" in option for option in schema["oneOf"]):
        return [option["const"] for option in schema["oneOf"]]
    if "const" in schema:
        return [schema["const"]]
    return None


def generate(schema: dict, rng: random.Random, today: date, data: dict | None = None) -> object:
    """A valid value of ``schema``; ``data``: what the task sees, for the fields whose choices
    come from it (:mod:`engine.form_options`)."""
    if data is not None:
        schema = bind_options(schema, data)
    choices = _choices(schema)
    if choices is not None:
        return rng.choice(choices)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object" or "properties" in schema:
        return {name: generate(sub, rng, today) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(schema.get("minItems", 1), min(2, schema.get("maxItems", 2)))
        return [generate(schema.get("items", {"type": "string"}), rng, today) for _ in range(count)]
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        low = schema.get("minimum", 0)
        # Plausible values, not the form's ceiling (the same draws whether or not a maximum is declared).
        high = min(schema.get("maximum", float("inf")), max(low, 0) + 50_000)
        value = rng.randint(int(low), int(high))
        return value if kind == "integer" else float(value)
    fmt = schema.get("format")
    if fmt == "date":
        return (today + timedelta(days=rng.randint(0, 60))).isoformat()
    if fmt == "email":
        return f"contact{rng.randint(1, 999)}@association.example.org"
    if fmt == "attachment":
        return SAMPLE_REF
    if "pattern" in schema:
        return _from_pattern(schema["pattern"], rng)
    text = _sentence(rng, schema.get("minLength", 0))
    return text[: schema["maxLength"]] if "maxLength" in schema else text


def attach_sample(db, clock, instance_id: int, login: str) -> str:
    """Upload :data:`SAMPLE_PDF` to the dossier as ``login`` (once; again is a no-op): the file
    the attachment fields of generated forms name. Returns its reference (:data:`SAMPLE_REF`)."""
    return AttachmentStore(db, clock).store(instance_id, "piece-jointe.pdf", SAMPLE_PDF, login).ref
