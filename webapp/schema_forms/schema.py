"""Reading a JSON Schema + rjsf-style UI schema: which widget a property gets, its title, options.

Only what the server-side renderer and parser need is supported: ``properties`` / ``items``,
``enum`` / ``oneOf`` / ``anyOf`` of ``{const, title}``, local ``$ref`` to ``#/$defs/…``,
``ui:widget``, ``ui:order`` (with ``*``), ``ui:options``, ``ui:help``, ``ui:placeholder``,
``ui:readonly``, ``ui:title``, ``ui:description``, ``ui:autocomplete``. Conditionals
(``if``/``then``) are ignored here: they are for the validator, not for the layout.
"""

from __future__ import annotations

import re
from typing import Any


def resolve(schema: dict, root: dict) -> dict:
    """Follow a local ``$ref`` (``#/$defs/x``); the referencing schema's own keys win."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 20:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            break
        target: Any = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema if isinstance(schema, dict) else {}


def schema_type(schema: dict) -> str | None:
    """The JSON type of a schema (the first non-null one of a type list), guessed from ``const``s."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        options = enum_options(schema)
        if options:
            value = options[0][0]
            return {bool: "boolean", int: "integer", float: "number"}.get(type(value), "string")
    return kind


def enum_options(schema: dict) -> list[tuple[Any, str]]:
    """``(value, title)`` pairs from ``enum`` or a ``oneOf``/``anyOf`` of ``const``s, else ``[]``."""
    if isinstance(schema.get("enum"), list):
        return [(value, str(value)) for value in schema["enum"]]
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if (
            isinstance(branches, list)
            and branches
            and all(isinstance(b, dict) and "const" in b for b in branches)
        ):
            return [(b["const"], str(b.get("title", b["const"]))) for b in branches]
    return []


def ui_child(ui: dict | None, name: str) -> dict:
    """The UI schema of property ``name`` (``{}`` when there is none)."""
    child = (ui or {}).get(name)
    return child if isinstance(child, dict) else {}


def ui_items(ui: dict | None) -> dict:
    """The UI schema of an array's items."""
    return ui_child(ui, "items")


def ui_option(ui: dict | None, name: str, default: Any = None) -> Any:
    """``ui:options[name]``, or the shorthand ``ui:<name>``."""
    ui = ui or {}
    options = ui.get("ui:options")
    if isinstance(options, dict) and name in options:
        return options[name]
    return ui.get(f"ui:{name}", default)


def ordered_properties(schema: dict, ui: dict | None) -> list[str]:
    """Property names in ``ui:order`` order; ``*`` stands for the unlisted ones (default: at the end)."""
    names = list((schema.get("properties") or {}).keys())
    order = (ui or {}).get("ui:order")
    if not isinstance(order, list):
        return names
    listed = [n for n in order if n in names]
    rest = [n for n in names if n not in listed]
    if "*" in order:
        star = [n for n in order if n in names or n == "*"].index("*")
        return listed[:star] + rest + listed[star:]
    return listed + rest


def title_of(schema: dict, ui: dict | None, name: str) -> str:
    """The label: ``ui:title``, the schema ``title``, else the property name."""
    return str((ui or {}).get("ui:title") or schema.get("title") or name)


def help_texts(schema: dict, ui: dict | None) -> list[str]:
    """The help paragraphs: the schema ``description`` (or ``ui:description``) then ``ui:help``."""
    texts = []
    description = (ui or {}).get("ui:description", schema.get("description"))
    if description:
        texts.append(str(description))
    if (ui or {}).get("ui:help"):
        texts.append(str(ui["ui:help"]))
    return texts


def is_attachment(schema: dict, ui: dict | None) -> bool:
    """A file field: ``format: attachment`` or ``ui:widget: file``."""
    return schema.get("format") == "attachment" or (ui or {}).get("ui:widget") == "file"


def widget_kind(schema: dict, ui: dict | None) -> str:
    """The widget a property is rendered with.

    ``object``, ``rows`` (array of objects or of free values), ``checkboxes`` (array of an enum),
    ``file``, ``checkbox`` / ``yesno`` (boolean), ``select`` / ``radios`` (enum), ``textarea``,
    ``number``, ``euros``, ``hidden``, or a text input type (``text``, ``email``, ``date``, ``url``).
    """
    widget = (ui or {}).get("ui:widget")
    kind = schema_type(schema)
    if kind == "object":
        return "object"
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if enum_options(items) and not is_attachment(items, ui_items(ui)):
            return "checkboxes"
        return "rows"
    if is_attachment(schema, ui):
        return "file"
    if widget == "hidden":
        return "hidden"
    if kind == "boolean":
        return "yesno" if widget in ("radio", "radios") else "checkbox"
    if enum_options(schema):
        return "radios" if widget in ("radio", "radios") else "select"
    if widget == "euros":
        return "euros"
    if kind in ("integer", "number"):
        return "number"
    if widget == "textarea":
        return "textarea"
    if widget == "date" or schema.get("format") == "date":
        return "date"
    if widget == "email" or schema.get("format") == "email":
        return "email"
    if widget in ("uri", "url") or schema.get("format") == "uri":
        return "url"
    return "text"


def option_value(value: Any) -> str:
    """How a value is written in an HTML ``value`` attribute (booleans as ``true``/``false``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def field_name(prefix: str, parts: list[str]) -> str:
    """The posted name: ``f.partenariat.0.partenaire``."""
    return ".".join([prefix, *parts])


def field_id(prefix: str, parts: list[str]) -> str:
    """An HTML id safe in CSS selectors and URL fragments: ``f-partenariat-0-partenaire``."""
    return "-".join(_ID_UNSAFE.sub("_", p) for p in [prefix, *parts])
