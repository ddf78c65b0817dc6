"""Bounds on the whole request, checked before any view reads it (pages and API alike).

- ``<int:...>`` in every route is :class:`BoundedIntConverter`: an id beyond the database's 64 bits
  matches no route (404) instead of overflowing the query (500).
- A JSON body is refused when it is larger than ``limits.MAX_JSON_BYTES`` (413), nested deeper
  than ``limits.MAX_JSON_DEPTH`` (400: Python's parser would overflow its stack near 1,000), or
  carries a number no JSON client reads exactly (an integer beyond ±2^53, ``1e400``, ``NaN``: 422,
  naming the field). The body is parsed once, there: the pages (``request.get_json()``, through
  :class:`CheckedRequest`) and the API (:class:`CheckedParser`) read that value.

The limits themselves are the engine's (:mod:`engine.limits`), so the OpenAPI document, the
pages and the commands state the same numbers.
"""

from __future__ import annotations

import json
import math
import re

from flask import Flask, Request, request
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnprocessableEntity
from werkzeug.routing import IntegerConverter

from engine import limits

_UNPARSED = object()


class CheckedRequest(Request):
    """A request whose JSON body :func:`check_json_body` parsed: ``get_json`` returns that value
    rather than parsing the body again (malformed JSON: Flask's own answer, as before)."""

    checked_json = _UNPARSED

    def get_json(self, force=False, silent=False, cache=True):
        if self.checked_json is not _UNPARSED:
            return self.checked_json
        return super().get_json(force=force, silent=silent, cache=cache)


class CheckedParser(FlaskParser):
    """The API's arguments parser (:class:`webapp.api.blueprint.Blueprint`): the JSON body is the
    value the bounds check parsed; webargs parses (and answers malformed JSON) only without one."""

    def _raw_load_json(self, req):
        checked = getattr(req, "checked_json", _UNPARSED)
        if checked is not _UNPARSED and is_json_request(req):
            return checked
        return super()._raw_load_json(req)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to what a BIGINT column holds; longer digit strings never match."""

    regex = r"\d{1,19}"

    def __init__(self, map, fixed_digits=0, min=None, max=limits.MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# A JSON string, escapes included (unrolled, so it never backtracks).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


def json_too_deep(body: bytes, limit: int = limits.MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of ``body`` nest deeper than ``limit`` (brackets in strings aside)."""
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in _OPEN else -1
        if depth > limit:
            return True
    return False


class _Unsafe:
    """A number parsed from the body that no JSON client reads exactly, kept as its text."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _parse_int(text: str):
    # Length first: int() of thousands of digits is slow, and refused past 4,300 by Python.
    if len(text.lstrip("-")) > len(str(limits.MAX_SAFE_INTEGER)):
        return _Unsafe(text)
    value = int(text)
    return value if abs(value) <= limits.MAX_SAFE_INTEGER else _Unsafe(text)


def _parse_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else _Unsafe(text)


def unsafe_numbers(value, path: str = "") -> dict[str, list[str]]:
    """``{"dotted.path": [message]}`` for every unsafe number in a parsed body."""
    found: dict[str, list[str]] = {}
    if isinstance(value, _Unsafe):
        shown = value.text if len(value.text) <= 30 else value.text[:20] + "…"
        found[path] = [
            f"Nombre hors limites ({shown}) : entre -{limits.MAX_SAFE_INTEGER} et {limits.MAX_SAFE_INTEGER}."
        ]
    elif isinstance(value, dict):
        for key, item in value.items():
            found.update(unsafe_numbers(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(unsafe_numbers(item, f"{path}.{index}" if path else str(index)))
    return found


def _refuse(error_class, message: str, errors: dict | None = None):
    err = error_class(message)
    err.data = {"message": message, **({"errors": {"json": errors}} if errors else {})}
    raise err


def check_json_body() -> None:
    """Before every request with a JSON body: size, depth and numbers (see the module docstring)."""
    if not request.is_json:
        return
    if (request.content_length or 0) > limits.MAX_JSON_BYTES:
        _refuse(RequestEntityTooLarge, _too_large())
    body = request.get_data(cache=True)
    if len(body) > limits.MAX_JSON_BYTES:  # a chunked body has no Content-Length
        _refuse(RequestEntityTooLarge, _too_large())
    if json_too_deep(body):
        _refuse(BadRequest, f"JSON imbriqué sur plus de {limits.MAX_JSON_DEPTH} niveaux : simplifiez la requête.")
    try:
        parsed = json.loads(body, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_Unsafe)
    except ValueError:
        return  # malformed JSON: the view's parser answers it as it always did (400)
    errors = unsafe_numbers(parsed)
    if errors:
        _refuse(UnprocessableEntity, "Un nombre est hors des limites d'un nombre JSON : corrigez les champs indiqués.",
                errors)
    request.checked_json = parsed  # safe: what json.loads gives, read by the views without parsing again


def _too_large() -> str:
    return f"Requête JSON de plus de {limits.MAX_JSON_BYTES // 1024} Kio : joignez les documents longs en fichiers."


def register(app: Flask) -> None:
    """Install the bounded ``int`` converter (before any route is added), the JSON body check and
    the request class that keeps what it parsed."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = CheckedRequest
    app.before_request(check_json_body)
