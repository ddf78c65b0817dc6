"""Validating submitted form data against the task's JSON Schema (versioned with the deployment)."""

from __future__ import annotations

import jsonschema_rs
import orjson
from jsonschema import Draft202012Validator, FormatChecker

from . import limits
from .errors import Invalid

MAX_FORM_BYTES = 512 * 1024
#: the ``format`` of a field that holds an attachment reference (``sha256:<hex>``)
ATTACHMENT_FORMAT = "attachment"


class FormValidator:
    """A form's JSON Schema: a compiled (Rust) check for the common valid case, and the reference
    Python validator for the error messages and for the verdict whenever the two disagree.

    Python's ``jsonschema`` takes about a millisecond on the dossier form, on every completion;
    ``jsonschema-rs`` a few microseconds. The fast check only ever short-cuts to *valid*: it is
    at least as strict as the reference on the formats our forms use (dates, e-mail), so data it
    accepts the reference accepts too; anything it refuses is judged by the reference.
    """

    def __init__(self, schema: dict):
        self.reference = Draft202012Validator(schema, format_checker=FormatChecker())
        self._fast = jsonschema_rs.validator_for(schema, validate_formats=True)

    def is_valid(self, data: object) -> bool:
        return self._fast.is_valid(data) or self.reference.is_valid(data)

    def iter_errors(self, data: object):
        return self.reference.iter_errors(data)


def encoded_size(data: object) -> int:
    """Bytes ``data`` takes as JSON (what the journal and the drafts table store)."""
    return len(orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS))


def make_validator(schema: dict) -> FormValidator:
    return FormValidator(schema)


def field_errors(validator: FormValidator, data: object) -> dict[str, list[str]]:
    """Per-field messages keyed by ``a.b.0`` paths (``""`` for the whole form)."""
    if validator.is_valid(data):
        return {}
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            # Report a missing property on the property itself, where a form shows it.
            missing = next((name for name in error.validator_value if name in error.message), "")
            path.append(missing)
        errors.setdefault(".".join(path), []).append(error.message)
    return errors


def validate_form(
    validator: FormValidator, data: object, *, form_name: str, bpmn_id: str | None = None,
    foreign_attachments=(),
) -> None:
    """Raise :class:`Invalid` with per-field errors when ``data`` breaks the schema, or when an
    attachment field holds no file of the dossier (``foreign_attachments``: their paths, from
    :func:`engine.attachments.foreign_paths`), every error at once: ``form.errors``, or
    ``attachment.foreign`` when those fields are all that is wrong. Each such field is named in
    ``params["fields"]`` with the code ``attachment.foreign``."""
    if not isinstance(data, dict):
        raise Invalid(
            "Form data must be an object", code="form.not_object",
            errors={"": ["expected an object"]},
            file=form_name,
            bpmn_id=bpmn_id,
        )
    if encoded_size(data) > MAX_FORM_BYTES:
        raise Invalid(
            f"Form data is larger than {MAX_FORM_BYTES // 1024} KiB: attach long documents as files",
            code="form.too_large", params={"kib": MAX_FORM_BYTES // 1024},
            errors={"": ["too large"]},
            file=form_name,
            bpmn_id=bpmn_id,
        )
    errors = field_errors(validator, data)
    if foreign_attachments:
        foreign = dict.fromkeys(foreign_attachments, "attachment.foreign")
        if not errors:
            raise Invalid(
                f"{len(foreign)} attachment field(s) do not name a file of this dossier: upload the file "
                "to the dossier, then name it by the reference the upload returned",
                code="attachment.foreign", params={"count": len(foreign), "fields": foreign},
                errors={path: ["not an attachment of this dossier"] for path in foreign},
                file=form_name, bpmn_id=bpmn_id,
            )
        errors.update({path: ["not an attachment of this dossier"] for path in foreign})
    if errors:
        raise Invalid(
            f"The form has {sum(map(len, errors.values()))} error(s): correct the fields shown",
            code="form.errors", params={"count": sum(map(len, errors.values())),
                                        **({"fields": foreign} if foreign_attachments else {})},
            errors=errors,
            file=form_name,
            bpmn_id=bpmn_id,
        )


# -- bounds a form schema must declare (checked at deploy) ---------------------------------------


def _is_choice(node: dict) -> bool:
    return "enum" in node or "const" in node or (
        "oneOf" in node and all(isinstance(o, dict) and "const" in o for o in node["oneOf"])
    )


def _bound_problems(node: dict, path: str) -> list[str]:
    """What ``node`` leaves unbounded, as ``"path: what to add"``.

    Conditional branches (``allOf``, ``if``/``then``…) are not walked: they can only narrow what
    the node itself declares, since an object must be closed (``additionalProperties: false``).
    """
    name = path or "(form)"
    if not isinstance(node, dict):
        return [f"{name}: a field is a JSON object"]
    if _is_choice(node):
        return []
    kinds = node.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds} if kinds else set()
    if not kinds:
        return [f"{name}: declare a type (a field without one accepts anything)"]
    problems: list[str] = []
    if "string" in kinds and not isinstance(node.get("maxLength"), int):
        problems.append(f"{name}: add maxLength (about 200 for a line, 5000 for a text area)")
    if kinds & {"integer", "number"}:
        for low, high in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            bound = node.get(low, node.get(high))
            if not isinstance(bound, int | float) or abs(bound) > limits.MAX_SAFE_INTEGER:
                problems.append(f"{name}: add a {low} within ±{limits.MAX_SAFE_INTEGER}")
    if "array" in kinds:
        if not isinstance(node.get("maxItems"), int):
            problems.append(f"{name}: add maxItems")
        problems += _bound_problems(node.get("items", {}), f"{path}[]")
    if "object" in kinds:
        if node.get("additionalProperties", True) is not False:
            problems.append(f'{name}: add "additionalProperties": false')
        for key, sub in node.get("properties", {}).items():
            problems += _bound_problems(sub, f"{path}.{key}" if path else key)
    return problems


def check_bounds(forms: dict[str, dict]) -> None:
    """Refuse (:class:`Invalid`, naming the file and its fields) a form schema that leaves a string
    without ``maxLength``, a number without ``minimum``/``maximum`` within ±2^53, an array without
    ``maxItems``, an object open to any property or a field without a type: whatever a form
    accepts ends up in the journal and on every page that shows the dossier."""
    for name in sorted(forms):
        if name.endswith(".schema.json"):
            problems = _bound_problems(forms[name], "")
            if problems:
                raise Invalid(
                    f"Unbounded form fields: {'; '.join(problems)}",
                    code="form.unbounded",
                    params={"problems": "; ".join(problems)},
                    errors={problem.split(": ", 1)[0]: [problem.split(": ", 1)[1]] for problem in problems},
                    file=name,
                )


def attachment_values(schema: dict, data: object) -> list[tuple[str, object]]:
    """``(dotted path, value)`` of every value in ``data`` that ``schema`` declares an attachment
    (``format: attachment``), in objects and arrays at any depth; local ``$ref`` are followed."""
    found: list[tuple[str, object]] = []
    _collect(schema, schema, data, (), found)
    return found


def _collect(root: dict, schema: dict, data: object, path: tuple[str, ...], found: list) -> None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        # The forms inline their fields today; a field a modeler moves to $defs stays checked.
        schema = {**root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}), **schema}
    if schema.get("format") == ATTACHMENT_FORMAT:
        if data is not None:
            found.append((".".join(path), data))
    elif isinstance(data, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in data and isinstance(sub, dict):
                _collect(root, sub, data[name], (*path, name), found)
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for n, item in enumerate(data):
            _collect(root, schema["items"], item, (*path, str(n)), found)
