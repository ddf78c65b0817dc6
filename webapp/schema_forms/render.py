"""``render_form``: a JSON Schema + UI schema + data (+ errors) → accessible HTML form fields.

The Python side builds a tree of plain dicts (the *view model*: ids, names, labels, values,
messages already translated); the templates in ``templates/`` only lay it out. Accessibility
(RGAA / WCAG) rules applied:

* every control has a ``<label for>``; radio groups, checkbox groups, objects and repeatable rows
  are ``<fieldset>`` with a ``<legend>``;
* required fields say "(obligatoire)" in their label and carry ``aria-required`` (and ``required``
  where the browser check is right: not inside repeatable rows, not on a checkbox, not on a file
  field that already has a file);
* help and error messages are linked with ``aria-describedby``; a field in error has
  ``aria-invalid="true"`` and an error summary with links to the fields opens the form.

The output is the inside of a ``<form>``: the caller writes the ``<form method="post"
enctype="multipart/form-data">`` tag, the CSRF token and the buttons. No JavaScript is needed:
repeatable rows show the existing rows plus one empty row, each existing row has a "supprimer"
checkbox, and a hint says that saving the draft brings a new empty row. With JavaScript,
``webapp/assets/forms.js`` turns them into "Ajouter une ligne" / "Supprimer" buttons: it clones
the row ``<template>`` rendered here (field names numbered ``__index__``) and renumbers the rows,
within the ``data-min-items`` / ``data-max-items`` of the list.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from . import schema as sch
from .i18n import _, translate_error
from .templating import render

#: every key a template may read, so the strict Jinja environment only catches real typos
_NODE_DEFAULTS: dict[str, Any] = dict.fromkeys(
    ("placeholder", "autocomplete", "maxlength", "current", "accept", "step", "min", "max", "textarea_rows")
) | {
    "value": "",
    "euro_hint": False,
    "checked": False,
    "options": (),
    "selected_values": (),
    "children": (),
    "rows": (),
    "dynamic": None,
}


class _Builder:
    """Walks the schema once, building the view model and collecting the error summary."""

    def __init__(self, root: dict, errors: dict[str, list[str]] | None, prefix: str, context: dict | None):
        self.root = root
        self.errors = {str(k): list(v) for k, v in (errors or {}).items() if v}
        self.used: set[str] = set()
        self.summary: list[dict] = []
        self.prefix = prefix
        context = context or {}
        self.variables = context.get("variables") or {}
        self.attachment_url = context.get("attachment_url")
        self.attachment_name = context.get("attachment_name")

    # -- helpers --------------------------------------------------------------------------
    def take_errors(self, parts: list[str], schema: dict, target: str, label: str) -> list[str]:
        """The translated messages for ``parts``; each also goes into the summary, linked to ``target``."""
        key = ".".join(parts)
        if key not in self.errors:
            return []
        self.used.add(key)
        messages = [translate_error(str(m), schema) for m in self.errors[key]]
        for message in messages:
            self.summary.append({"href": "#" + target, "label": label, "message": message})
        return messages

    def leftover_errors(self) -> list[dict]:
        """Errors whose path matches no rendered field (whole-form ones first), shown without a link."""
        keys = sorted((k for k in self.errors if k not in self.used), key=lambda k: k != "")
        return [
            {"href": None, "label": None, "message": translate_error(str(message))}
            for key in keys
            for message in self.errors[key]
        ]

    def attachment(self, ref: str) -> dict:
        name = self.attachment_name(ref) if callable(self.attachment_name) else None
        url = self.attachment_url(ref) if callable(self.attachment_url) else None
        return {"ref": ref, "name": name or ref, "url": url}

    def initial(self, value: Any, schema: dict, ui: dict, blank: bool) -> Any:
        """``value``, else ``ui:options.defaultFromVariable`` from the context, else the schema default."""
        if value is not None or blank:
            return value
        variable = sch.ui_option(ui, "defaultFromVariable")
        if variable and self.variables.get(variable) is not None:
            return self.variables[variable]
        return schema.get("default")

    # -- nodes ----------------------------------------------------------------------------
    def node(
        self,
        schema: dict,
        ui: dict,
        value: Any,
        parts: list[str],
        *,
        label: str,
        required: bool,
        in_row: bool,
        blank: bool,
        trail: str = "",
    ) -> dict:
        """One field (or group) of the form."""
        schema = sch.resolve(schema, self.root)
        kind = sch.widget_kind(schema, ui)
        ident = sch.field_id(self.prefix, parts)
        readonly = bool(ui.get("ui:readonly") or schema.get("readOnly"))
        value = self.initial(value, schema, ui, blank)
        node: dict[str, Any] = {
            **_NODE_DEFAULTS,
            "kind": kind,
            "id": ident,
            "name": sch.field_name(self.prefix, parts),
            "label": label,
            "help": sch.help_texts(schema, ui),
            "help_id": ident + "-help",
            "error_id": ident + "-error",
            "readonly": readonly,
            "target": ident,
            "required": required and kind != "checkbox",
        }
        node["aria_required"] = node["required"] and not blank and not readonly
        node["required_attr"] = node["aria_required"] and not in_row
        summary_label = f"{trail} – {label}" if trail else label
        if kind in ("radios", "yesno", "checkboxes"):
            node["target"] = ident + "-0"
        if kind == "object":
            self.fill_object(node, schema, ui, value, parts, in_row=in_row, blank=blank, trail=trail)
        elif kind == "rows":
            self.fill_rows(node, schema, ui, value, parts)
        else:
            self.fill_leaf(node, kind, schema, ui, value)
        if kind in ("object", "rows"):
            # a group says "(obligatoire)" only when it must hold at least one row; its fields say the rest
            node["required"] = kind == "rows" and node["required"] and schema.get("minItems", 0) >= 1
            node["aria_required"] = node["required_attr"] = False
        node["errors"] = self.take_errors(parts, schema, node["target"], summary_label)
        if kind == "file" and node.get("current"):
            node["required_attr"] = False
        described = [node["help_id"]] if node["help"] else []
        if node["errors"]:
            described.append(node["error_id"])
        if node.get("current"):
            described.append(ident + "-current")
        node["describedby"] = " ".join(described) or None
        return node

    def children(
        self,
        schema: dict,
        ui: dict,
        value: Any,
        parts: list[str],
        *,
        parent_required: bool,
        in_row: bool,
        blank: bool,
        trail: str,
    ) -> list[dict]:
        value = value if isinstance(value, dict) else {}
        required = set(schema.get("required") or [])
        nodes = []
        for name in sch.ordered_properties(schema, ui):
            child_ui = sch.ui_child(ui, name)
            prop = sch.resolve(schema["properties"][name], self.root)
            nodes.append(
                self.node(
                    prop,
                    child_ui,
                    value.get(name),
                    [*parts, name],
                    label=sch.title_of(prop, child_ui, name),
                    required=parent_required and name in required,
                    in_row=in_row,
                    blank=blank,
                    trail=trail,
                )
            )
        return nodes

    def fill_object(
        self,
        node: dict,
        schema: dict,
        ui: dict,
        value: Any,
        parts: list[str],
        *,
        in_row: bool,
        blank: bool,
        trail: str,
    ) -> None:
        node["children"] = self.children(
            schema,
            ui,
            value,
            parts,
            parent_required=node["required"] or in_row or not parts,
            in_row=in_row,
            blank=blank,
            trail=trail,
        )

    def fill_rows(self, node: dict, schema: dict, ui: dict, value: Any, parts: list[str]) -> None:
        items = sch.resolve(schema.get("items") if isinstance(schema.get("items"), dict) else {}, self.root)
        items_ui = sch.ui_items(ui)
        item_title = str(items_ui.get("ui:title") or items.get("title") or node["label"])
        rows = list(value) if isinstance(value, list) else []
        node["rows"] = []
        max_items = schema.get("maxItems")
        can_add = not node["readonly"] and (max_items is None or len(rows) < max_items)
        node["dynamic"] = None
        if not node["readonly"]:
            # What forms.js needs to add and remove rows; without JavaScript only the hint shows.
            node["dynamic"] = {
                "min_items": schema.get("minItems", 0),
                "max_items": max_items,
                "legend": _("%(title)s n° %(number)s", title=item_title, number="{n}"),
                "add_label": _("Ajouter une ligne"),
                "add_name": _("Ajouter une ligne : %(title)s", title=node["label"]),
                "remove_label": _("Supprimer"),
                "remove_name": _("Supprimer la ligne « %(legend)s »", legend="{legend}"),
                "hint": (
                    _("Enregistrez le brouillon pour obtenir une ligne supplémentaire.")
                    if can_add
                    else _("Nombre maximal de lignes atteint : %(max)s.", max=max_items)
                ),
                "template": self.row(items, items_ui, None, parts, "__index__", item_title, blank=True, readonly=False),
            }
        for index, item in enumerate([*rows, None] if can_add else rows):
            node["rows"].append(
                self.row(items, items_ui, item, parts, str(index), item_title, index >= len(rows), node["readonly"])
            )

    def row(
        self,
        items: dict,
        items_ui: dict,
        item: Any,
        parts: list[str],
        index: str,
        item_title: str,
        blank: bool,
        readonly: bool,
    ) -> dict:
        """One row of a list: its legend, its fields and its "supprimer" checkbox."""
        row_parts = [*parts, index]
        base_id = sch.field_id(self.prefix, row_parts)  # the item's own id when it is a single value
        row_id = base_id + "--row"
        legend = (
            _("%(title)s : nouvelle ligne (facultative)", title=item_title)
            if blank
            else _("%(title)s n° %(number)s", title=item_title, number=int(index) + 1)
        )
        is_object = sch.widget_kind(items, items_ui) == "object"
        row: dict[str, Any] = {
            "id": row_id,
            "legend": legend,
            "blank": blank,
            "delete": None,
            "errors": self.take_errors(row_parts, items, row_id, legend) if is_object else [],
            "error_id": row_id + "-error",
        }
        if not blank and not readonly:
            row["delete"] = {
                "id": base_id + "--delete",
                "name": sch.field_name(self.prefix, [*row_parts, "_delete"]),
                "label": _("Supprimer la ligne « %(legend)s »", legend=legend),
            }
        if is_object:
            row["children"] = self.children(
                items,
                items_ui,
                item,
                row_parts,
                parent_required=True,
                in_row=True,
                blank=blank,
                trail=legend,
            )
        else:  # a list of single values (e.g. attachments): the row holds one unlabelled-by-schema field
            row["children"] = [
                self.node(
                    items,
                    items_ui,
                    item,
                    row_parts,
                    label=item_title,
                    required=False,
                    in_row=True,
                    blank=blank,
                    trail=legend,
                )
            ]
        return row

    def fill_leaf(self, node: dict, kind: str, schema: dict, ui: dict, value: Any) -> None:
        node["value"] = sch.option_value(value)
        node["placeholder"] = ui.get("ui:placeholder")
        node["autocomplete"] = sch.ui_option(ui, "autocomplete")
        if kind in ("select", "radios", "checkboxes", "yesno"):
            if kind == "yesno":
                options = [(True, _("Oui")), (False, _("Non"))]
            elif kind == "checkboxes":
                options = sch.enum_options(sch.resolve(schema.get("items") or {}, self.root))
            else:
                options = sch.enum_options(schema)
            chosen = (
                {sch.option_value(v) for v in value} if isinstance(value, list) else {sch.option_value(value)}
            )
            node["options"] = [
                {
                    "value": sch.option_value(v),
                    "label": title,
                    "id": f"{node['id']}-{i}",
                    "selected": value is not None and sch.option_value(v) in chosen,
                }
                for i, (v, title) in enumerate(options)
            ]
            node["selected_values"] = [o["value"] for o in node["options"] if o["selected"]]
        elif kind == "checkbox":
            node["checked"] = value is True
        elif kind in ("number", "euros"):
            is_integer = sch.schema_type(schema) == "integer"
            node["step"] = (
                "1" if is_integer else ("0.01" if kind == "euros" else str(sch.ui_option(ui, "step", "any")))
            )
            node["min"] = sch.option_value(schema.get("minimum")) or None
            node["max"] = sch.option_value(schema.get("maximum")) or None
            node["euro_hint"] = kind == "euros" and "€" not in node["label"]
        elif kind == "textarea":
            node["textarea_rows"] = sch.ui_option(ui, "rows", 5)
            node["maxlength"] = schema.get("maxLength")
        elif kind == "file":
            node["current"] = self.attachment(value) if isinstance(value, str) and value else None
            node["accept"] = sch.ui_option(ui, "accept")
        else:
            node["maxlength"] = schema.get("maxLength")


def render_form(
    schema: dict,
    ui_schema: dict | None,
    data: dict | None,
    errors: dict[str, list[str]] | None = None,
    *,
    prefix: str = "f",
    context: dict | None = None,
) -> Markup:
    """The form's fields as HTML (inside the caller's ``<form>``), with an error summary on top.

    ``errors`` maps dotted paths without the prefix (``partenariat.0.partenaire``, ``""`` for the
    whole form) to messages; jsonschema's English messages are translated. ``context`` may hold
    ``variables`` (for ``ui:options.defaultFromVariable``) and two callables for attachments,
    ``attachment_url(ref)`` and ``attachment_name(ref)``.
    """
    builder = _Builder(schema, errors, prefix, context)
    root = sch.resolve(schema, schema)
    fields = builder.children(
        root, ui_schema or {}, data or {}, [], parent_required=True, in_row=False, blank=False, trail=""
    )
    return render(
        "form.html",
        prefix=prefix,
        fields=fields,
        description=root.get("description"),
        summary=builder.leftover_errors() + builder.summary,
    )
