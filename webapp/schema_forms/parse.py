"""``parse_form``: the posted fields of a rendered form → typed JSON data for jsonschema.

The parser only converts; validation is jsonschema's job. So an empty field is *left out* (and
jsonschema reports "required" where it should), enum values stay strings, dates stay ISO strings.
What cannot even be converted ("abc" for a number, 31/02) is reported in
:attr:`FormParseResult.errors` under the field's dotted path and left out of the data.

Repeatable rows are rebuilt from the indexes present in the post, in index order, skipping rows
marked ``<path>.N._delete`` and rows left entirely empty; they are renumbered from 0 (and their
conversion errors with them) so the result matches what ``render_form`` shows next.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from . import schema as sch
from .i18n import _

MISSING: Any = object()

TRUE_WORDS = {"true", "on", "1", "oui", "yes"}
FALSE_WORDS = {"false", "off", "0", "non", "no"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass
class FormParseResult:
    """The converted ``data`` and the conversion ``errors`` (dotted path → messages)."""

    data: dict = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every posted value could be converted."""
        return not self.errors


class ConversionError(ValueError):
    """A posted string that cannot be read as the schema's type; the message is for the user."""


def parse_number(raw: str, *, integer: bool) -> int | float:
    """Read ``12 500,50`` / ``12500.50`` / ``12.500,50``; spaces and a ``€`` sign are ignored."""
    text = re.sub(r"[\s\u00a0\u202f€]", "", raw)
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    if not _NUMBER.match(text):
        raise ConversionError(_("Saisissez un nombre entier.") if integer else _("Saisissez un nombre."))
    try:
        number = Decimal(text)
    except InvalidOperation as err:  # pragma: no cover - the regex already rules these out
        raise ConversionError(_("Saisissez un nombre.")) from err
    if number == number.to_integral_value():
        return int(number)
    if integer:
        raise ConversionError(_("Saisissez un nombre entier."))
    return float(number)


def parse_date(raw: str) -> str:
    """An ISO ``YYYY-MM-DD`` string (``JJ/MM/AAAA``, typed where no date picker exists, is accepted)."""
    match = _FRENCH_DATE.match(raw)
    if match:
        day, month, year = match.groups()
        raw = f"{year}-{int(month):02d}-{int(day):02d}"
    if _ISO_DATE.match(raw):
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            pass
    raise ConversionError(_("Saisissez une date valide au format AAAA-MM-JJ."))


def parse_boolean(raw: str) -> bool:
    if raw.lower() in TRUE_WORDS:
        return True
    if raw.lower() in FALSE_WORDS:
        return False
    raise ConversionError(_("Choisissez oui ou non."))


def _getlist(source: Any, name: str) -> list:
    if source is None:
        return []
    if hasattr(source, "getlist"):
        return list(source.getlist(name))
    value = source.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _is_blank(value: Any) -> bool:
    """Nothing entered: missing, an unchecked box, or a container of blanks."""
    if value is MISSING or value is None or value is False:
        return True
    if isinstance(value, dict):
        return all(_is_blank(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_blank(v) for v in value)
    return False


class _Parser:
    def __init__(
        self,
        root: dict,
        formdata: Any,
        files: Any,
        prefix: str,
        store_attachment: Callable[[Any, str], str] | None,
    ):
        self.root = root
        self.formdata = formdata
        self.files = files
        self.prefix = prefix
        self.store_attachment = store_attachment
        self.errors: dict[str, list[str]] = {}

    def value(self, schema: dict, ui: dict, parts: list[str]) -> Any:
        schema = sch.resolve(schema, self.root)
        kind = sch.widget_kind(schema, ui)
        if kind == "object":
            return self.object(schema, ui, parts)
        if kind == "rows":
            return self.rows(schema, ui, parts)
        name = sch.field_name(self.prefix, parts)
        if kind == "checkboxes":
            options = sch.enum_options(sch.resolve(schema.get("items") or {}, self.root))
            return [self.option(raw, options) for raw in _getlist(self.formdata, name) if str(raw).strip()]
        if kind == "file":
            return self.file(name, parts)
        posted = _getlist(self.formdata, name)
        if not posted:
            return False if kind == "checkbox" else MISSING
        raw = str(posted[-1]).replace("\r\n", "\n").strip()
        if raw == "":
            return False if kind == "checkbox" else MISSING
        try:
            return self.convert(raw, schema, kind)
        except ConversionError as err:
            self.errors.setdefault(".".join(parts), []).append(str(err))
            return MISSING

    def convert(self, raw: str, schema: dict, kind: str) -> Any:
        json_type = sch.schema_type(schema)
        if json_type == "boolean":
            return parse_boolean(raw)
        options = sch.enum_options(schema)
        if options:
            return self.option(raw, options)
        if json_type in ("integer", "number"):
            return parse_number(raw, integer=json_type == "integer")
        if kind == "date":
            return parse_date(raw)
        return raw

    @staticmethod
    def option(raw: str, options: list[tuple[Any, str]]) -> Any:
        """The typed enum value whose HTML form is ``raw`` (``raw`` itself if none: jsonschema says why)."""
        return next((value for value, _title in options if sch.option_value(value) == raw), raw)

    def file(self, name: str, parts: list[str]) -> Any:
        uploads = [f for f in _getlist(self.files, name) if getattr(f, "filename", None)]
        if uploads and self.store_attachment is not None:
            stored = self.store_attachment(uploads[-1], ".".join(parts))
            if stored:
                return stored
            # Refused (the caller says why): the file already there, if any, stays rather than be lost.
        current = [str(v) for v in _getlist(self.formdata, name) if str(v).strip()]
        return current[-1] if current else MISSING

    def object(self, schema: dict, ui: dict, parts: list[str]) -> dict:
        result = {}
        required = set(schema.get("required") or [])
        for name in sch.ordered_properties(schema, ui):
            prop = schema["properties"][name]
            value = self.value(prop, sch.ui_child(ui, name), [*parts, name])
            if value is MISSING:
                continue
            if value == {} and name not in required:
                continue
            result[name] = value
        return result

    def indexes(self, name: str) -> list[int]:
        """The row numbers posted under ``name`` (``name.3.x`` → 3), sorted."""
        start = name + "."
        found = set()
        for source in (self.formdata, self.files):
            for key in source.keys() if source is not None else ():
                if key.startswith(start):
                    head = key[len(start) :].split(".", 1)[0]
                    if head.isdigit():
                        found.add(int(head))
        return sorted(found)

    def rows(self, schema: dict, ui: dict, parts: list[str]) -> list:
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        items_ui = sch.ui_items(ui)
        name = sch.field_name(self.prefix, parts)
        result = []
        for index in self.indexes(name):
            deleted = _getlist(self.formdata, f"{name}.{index}._delete")
            if any(str(v).strip().lower() in TRUE_WORDS for v in deleted):
                continue
            before = set(self.errors)
            item = self.value(items, items_ui, [*parts, str(index)])
            row_errors = {k: self.errors.pop(k) for k in set(self.errors) - before}
            if _is_blank(item) and not row_errors:
                continue
            if item is MISSING:  # a single value that could not be converted: report it on the list
                for messages in row_errors.values():
                    self.errors.setdefault(".".join(parts), []).extend(messages)
                continue
            old = ".".join([*parts, str(index)])
            new = ".".join([*parts, str(len(result))])
            for key, messages in row_errors.items():
                self.errors[new + key[len(old) :]] = messages
            result.append(item)
        return result


def parse_form(
    schema: dict,
    ui_schema: dict | None,
    formdata: Any,
    files: Any = None,
    *,
    prefix: str = "f",
    store_attachment: Callable[[Any, str], str] | None = None,
) -> FormParseResult:
    """Convert the fields posted from :func:`render_form` back into JSON data.

    ``formdata`` and ``files`` are ``request.form`` / ``request.files`` (any mapping with
    ``getlist`` works). For an uploaded attachment, ``store_attachment(file_storage, path)`` is
    called and must return the reference to keep, or ``None`` when it refuses the file (having
    noted why: the caller reports it); without an upload, or when the upload is refused, the
    current reference posted in the hidden field is kept. Fields marked ``ui:readonly`` are
    parsed like the others: a caller that must not let them change should overwrite them with the
    stored values.
    """
    parser = _Parser(schema, formdata, files, prefix, store_attachment)
    root = sch.resolve(schema, schema)
    data = parser.object(root, ui_schema or {}, [])
    return FormParseResult(data=data, errors=parser.errors)
