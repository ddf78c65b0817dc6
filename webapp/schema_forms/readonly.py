"""``render_readonly``: submitted data shown as a ``<dl>`` (earlier steps of a dossier, read-only).

Values are shown the way a French reader expects them: enum values by their title, booleans as
Oui / Non, amounts (``ui:widget: euros``) as ``12 500,00 €``, other numbers with a decimal comma,
dates as ``23 janvier 2015``, multi-line texts with their line breaks, attachments as a link built by
``context["attachment_url"]`` (or just their name). Thousands are separated by a no-break space
(U+00A0), and so is the ``€`` sign, so an amount never wraps.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from . import schema as sch
from .i18n import _, format_long_date
from .templating import render

NBSP = "\u00a0"


def format_number(value: int | float | Decimal, *, decimals: int | None = None) -> str:
    """``12500.5`` → ``12 500,5``; with ``decimals=2`` → ``12 500,50``."""
    number = Decimal(str(value))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals))
    text = format(number, ",f")
    return text.replace(",", NBSP).replace(".", ",")


def format_amount(value: int | float | Decimal) -> str:
    """``12500`` → ``12 500,00 €``."""
    return format_number(value, decimals=2) + NBSP + "€"


def format_date(value: str) -> str:
    """``2015-01-23`` → ``23 janvier 2015``, the long date of the page's language, as
    :func:`webapp.filters.day` writes every date of the UI (anything else is shown as it is)."""
    try:
        parsed = date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return format_long_date(parsed)


class _Reader:
    def __init__(self, root: dict, context: dict | None):
        self.root = root
        context = context or {}
        self.attachment_url = context.get("attachment_url")
        self.attachment_name = context.get("attachment_name")

    def entries(self, schema: dict, ui: dict, data: Any) -> list[dict]:
        """One ``{label, …}`` entry per property present in ``data``."""
        data = data if isinstance(data, dict) else {}
        entries = []
        for name in sch.ordered_properties(schema, ui):
            if name not in data or data[name] is None:
                continue
            prop = sch.resolve(schema["properties"][name], self.root)
            child_ui = sch.ui_child(ui, name)
            entry = self.entry(prop, child_ui, data[name], sch.title_of(prop, child_ui, name))
            if entry is not None:
                entries.append(entry)
        return entries

    def entry(self, schema: dict, ui: dict, value: Any, label: str) -> dict | None:
        kind = sch.widget_kind(schema, ui)
        if kind == "hidden":
            return None
        if kind == "object":
            children = self.entries(schema, ui, value)
            return {"type": "group", "label": label, "children": children} if children else None
        if kind == "rows":
            items = sch.resolve(schema.get("items") or {}, self.root)
            items_ui = sch.ui_items(ui)
            rows = value if isinstance(value, list) else []
            if not rows:
                return {"type": "value", "label": label, **self.empty_list()}
            if sch.widget_kind(items, items_ui) == "object":
                return {
                    "type": "rows",
                    "label": label,
                    "rows": [self.entries(items, items_ui, row) for row in rows],
                }
            return {
                "type": "list",
                "label": label,
                "values": [e for e in (self.entry(items, items_ui, row, label) for row in rows) if e],
            }
        return {"type": "value", "label": label, **self.leaf(kind, schema, value)}

    @staticmethod
    def empty_list() -> dict:
        return {"lines": [_("Aucun élément.")], "attachment": None}

    def leaf(self, kind: str, schema: dict, value: Any) -> dict:
        """How one value is shown: ``lines`` of text, or an ``attachment`` link."""
        return {"attachment": None, **self.shown(kind, schema, value)}

    def shown(self, kind: str, schema: dict, value: Any) -> dict:
        if kind == "file" and isinstance(value, str):
            name = self.attachment_name(value) if callable(self.attachment_name) else None
            url = self.attachment_url(value) if callable(self.attachment_url) else None
            return {"attachment": {"name": name or value, "url": url}, "lines": []}
        if kind == "checkboxes":
            titles = dict((sch.option_value(v), t) for v, t in sch.enum_options(schema.get("items") or {}))
            text = (
                ", ".join(titles.get(sch.option_value(v), str(v)) for v in value)
                if isinstance(value, list)
                else ""
            )
            return {"lines": [text or _("Aucun.")]}
        if isinstance(value, bool):
            return {"lines": [_("Oui") if value else _("Non")]}
        options = sch.enum_options(schema)
        if options:
            titles = {sch.option_value(v): t for v, t in options}
            return {"lines": [titles.get(sch.option_value(value), str(value))]}
        if isinstance(value, int | float):
            return {"lines": [format_amount(value) if kind == "euros" else format_number(value)]}
        if kind == "date":
            return {"lines": [format_date(value)]}
        return {"lines": str(value).splitlines() or [""]}


def render_readonly(
    schema: dict, ui_schema: dict | None, data: dict | None, *, context: dict | None = None
) -> Markup:
    """The values of ``data`` as a ``<dl>`` with the schema's (French) titles, in ``ui:order``.

    ``context`` may hold ``attachment_url(ref)`` and ``attachment_name(ref)`` callables; without
    them an attachment is shown by its reference, without a link.
    """
    reader = _Reader(schema, context)
    root = sch.resolve(schema, schema)
    return render("readonly.html", entries=reader.entries(root, ui_schema or {}, data or {}))
