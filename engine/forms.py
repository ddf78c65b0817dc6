"""Validating submitted form data against the task's JSON Schema (versioned with the deployment)."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator, FormatChecker

from .errors import Invalid

MAX_FORM_BYTES = 512 * 1024


def make_validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def field_errors(validator: Draft202012Validator, data: object) -> dict[str, list[str]]:
    """Per-field messages keyed by ``a.b.0`` paths (``""`` for the whole form)."""
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
    validator: Draft202012Validator, data: object, *, form_name: str, bpmn_id: str | None = None
) -> None:
    """Raise :class:`Invalid` with per-field errors when ``data`` breaks the schema."""
    if not isinstance(data, dict):
        raise Invalid(
            "Form data must be an object",
            errors={"": ["expected an object"]},
            file=form_name,
            bpmn_id=bpmn_id,
        )
    if len(json.dumps(data)) > MAX_FORM_BYTES:
        raise Invalid(
            f"Form data is larger than {MAX_FORM_BYTES // 1024} KiB: attach long documents as files",
            errors={"": ["too large"]},
            file=form_name,
            bpmn_id=bpmn_id,
        )
    errors = field_errors(validator, data)
    if errors:
        raise Invalid(
            f"The form has {sum(map(len, errors.values()))} error(s): correct the fields shown",
            errors=errors,
            file=form_name,
            bpmn_id=bpmn_id,
        )
