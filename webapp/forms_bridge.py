"""The bridge to the JSON-Schema form renderer (``webapp.schema_forms``).

Views call :func:`render_form`, :func:`parse_form` and :func:`render_readonly` from here. They use
``webapp.schema_forms`` when it is installed; until then a deliberately small fallback renders
flat fields (text, numbers, dates, choices, checkboxes, nested groups; lists as JSON) so the pages
and their tests work. Field names are ``<prefix>.<dotted.path>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from markupsafe import Markup, escape


@dataclass
class FallbackResult:
    data: dict
    errors: dict[str, list[str]] = field(default_factory=dict)


def _renderer():
    try:
        from . import schema_forms
    except ImportError:
        return None
    return schema_forms


def render_form(schema, ui_schema, data, errors, prefix="f", context=None) -> Markup:
    module = _renderer()
    if module is not None:
        return module.render_form(schema, ui_schema, data, errors, prefix=prefix, context=context)
    return Markup(_fields(schema, ui_schema or {}, data or {}, errors or {}, prefix, []))


def parse_form(schema, ui_schema, form, files, prefix="f", store_attachment=None):
    module = _renderer()
    if module is not None:
        return module.parse_form(schema, ui_schema, form, files, prefix=prefix, store_attachment=store_attachment)
    result = FallbackResult({})
    result.data = _parse(schema, form, files, prefix, [], result.errors, store_attachment)
    return result


def render_readonly(schema, ui_schema, data) -> Markup:
    module = _renderer()
    if module is not None:
        return module.render_readonly(schema, ui_schema, data)
    return Markup(_readonly(schema, data or {}))


# -- fallback ---------------------------------------------------------------------------------------


def _choices(sub: dict) -> list[tuple[object, str]] | None:
    if "oneOf" in sub and all("const" in o for o in sub["oneOf"]):
        return [(o["const"], o.get("title", str(o["const"]))) for o in sub["oneOf"]]
    if "enum" in sub:
        return [(v, str(v)) for v in sub["enum"]]
    return None


def _kind(sub: dict) -> str | None:
    kind = sub.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def _ordered(schema: dict, ui: dict) -> list[str]:
    props = list(schema.get("properties", {}))
    order = [name for name in ui.get("ui:order", []) if name in props]
    return order + [name for name in props if name not in order]


def _fields(schema: dict, ui: dict, data: dict, errors: dict, prefix: str, path: list[str]) -> str:
    out = []
    required = set(schema.get("required", []))
    for name in _ordered(schema, ui):
        sub = schema["properties"][name]
        sub_ui = ui.get(name, {})
        here = [*path, name]
        key = ".".join(here)
        field_id = "f-" + "-".join(here)
        fname = f"{prefix}.{key}"
        value = data.get(name) if isinstance(data, dict) else None
        title = escape(sub.get("title", name))
        mark = ' <abbr title="obligatoire">*</abbr>' if name in required else ""
        errs = errors.get(key, [])
        err_html = "".join(f'<p class="field-error" id="{field_id}-err">{escape(e)}</p>' for e in errs)
        described = f' aria-describedby="{field_id}-err" aria-invalid="true"' if errs else ""
        help_text = sub_ui.get("ui:help") or sub.get("description")
        help_html = f'<p class="help">{escape(help_text)}</p>' if help_text else ""
        kind = _kind(sub)
        choices = _choices(sub)
        if kind == "object" and choices is None:
            inner = _fields(sub, sub_ui, value or {}, errors, prefix, here)
            out.append(f'<fieldset class="group"><legend>{title}</legend>{help_html}{err_html}{inner}</fieldset>')
            continue
        if kind == "boolean":
            checked = " checked" if value else ""
            out.append(f'<div class="field field-checkbox"><input type="hidden" name="{fname}" value="false">'
                       f'<input type="checkbox" id="{field_id}" name="{fname}" value="true"{checked}{described}>'
                       f'<label for="{field_id}">{title}{mark}</label>{help_html}{err_html}</div>')
            continue
        if choices is not None:
            options = ['<option value="">—</option>'] + [
                f'<option value="{escape(json.dumps(v))}"{" selected" if v == value else ""}>{escape(t)}</option>'
                for v, t in choices]
            control = f'<select id="{field_id}" name="{fname}"{described}>{"".join(options)}</select>'
        elif kind == "array":
            text = json.dumps(value, ensure_ascii=False, indent=1) if value is not None else ""
            control = f'<textarea id="{field_id}" name="{fname}" rows="4"{described}>{escape(text)}</textarea>'
        elif sub.get("format") == "attachment":
            current = f'<p class="help">Fichier actuel : {escape(value)}</p>' if value else ""
            control = (f'<input type="file" id="{field_id}" name="{fname}"{described}>{current}'
                       f'<input type="hidden" name="{fname}.current" value="{escape(value or "")}">')
        elif sub_ui.get("ui:widget") == "textarea":
            control = (f'<textarea id="{field_id}" name="{fname}" rows="5"{described}>'
                       f'{escape(value if value is not None else "")}</textarea>')
        else:
            input_type = {"integer": "number", "number": "number"}.get(kind, "text")
            if sub.get("format") == "date":
                input_type = "date"
            elif sub.get("format") == "email":
                input_type = "email"
            step = ' step="0.01"' if kind == "number" else ""
            shown = "" if value is None else value
            control = (f'<input type="{input_type}" id="{field_id}" name="{fname}" value="{escape(shown)}"'
                       f'{step}{described}>')
        out.append(f'<div class="field{" has-error" if errs else ""}"><label for="{field_id}">{title}{mark}</label>'
                   f'{help_html}{control}{err_html}</div>')
    return "".join(out)


def _parse(schema, form, files, prefix, path, errors, store_attachment):
    data = {}
    for name, sub in schema.get("properties", {}).items():
        here = [*path, name]
        key = ".".join(here)
        fname = f"{prefix}.{key}"
        kind = _kind(sub)
        choices = _choices(sub)
        if kind == "object" and choices is None:
            data[name] = _parse(sub, form, files, prefix, here, errors, store_attachment)
            continue
        if kind == "boolean":
            values = form.getlist(fname)
            if values:
                data[name] = "true" in values
            continue
        if sub.get("format") == "attachment":
            upload = files.get(fname) if files else None
            if upload is not None and upload.filename:
                try:
                    data[name] = store_attachment(upload) if store_attachment else upload.filename
                except Exception as err:  # noqa: BLE001 - reported next to the field
                    errors.setdefault(key, []).append(getattr(err, "message", str(err)))
            elif form.get(fname + ".current"):
                data[name] = form.get(fname + ".current")
            continue
        raw = form.get(fname)
        if raw is None or raw.strip() == "":
            continue
        if choices is not None:
            try:
                data[name] = json.loads(raw)
            except ValueError:
                data[name] = raw
        elif kind == "array":
            try:
                data[name] = json.loads(raw)
            except ValueError:
                errors.setdefault(key, []).append("Liste invalide (JSON attendu).")
        elif kind in ("integer", "number"):
            try:
                number = float(raw.replace(",", ".").replace(" ", ""))
                data[name] = int(number) if kind == "integer" and number.is_integer() else number
            except ValueError:
                errors.setdefault(key, []).append("Nombre attendu.")
                data[name] = raw
        else:
            data[name] = raw.strip()
    return data


def _readonly(schema: dict, data: dict) -> str:
    rows = []
    for name, sub in schema.get("properties", {}).items():
        if name not in data:
            continue
        value = data[name]
        choices = _choices(sub) or []
        label = dict((json.dumps(v), t) for v, t in choices).get(json.dumps(value))
        if isinstance(value, dict) and _kind(sub) == "object":
            shown = Markup(_readonly(sub, value))
        elif isinstance(value, bool):
            shown = "Oui" if value else "Non"
        elif isinstance(value, list):
            shown = json.dumps(value, ensure_ascii=False)
        else:
            shown = label or value
        rows.append(f"<dt>{escape(sub.get('title', name))}</dt><dd>{escape(shown)}</dd>")
    return f'<dl class="readonly">{"".join(rows)}</dl>'
