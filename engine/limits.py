"""Bounds on what users send, in one place: the engine checks them where it takes the input, and the
web layer (pages, API, its OpenAPI document) states the same numbers.

Without a bound, one request could store megabytes in the journal (and in every page that reads
it), or hand the database a number it cannot hold.
"""

from __future__ import annotations

from .errors import Invalid

#: A name, a code, a login, a filter value: one line.
MAX_SHORT_TEXT = 200
#: A reason, a comment, a motive: a few paragraphs.
MAX_TEXT = 5000
#: Largest id, page number or count a URL or query may carry (the database's signed 64 bits).
MAX_ID = 2**63 - 1
#: Largest page number asked of a list (beyond it a list is empty anyway, and an offset could overflow).
MAX_PAGE = 1_000_000
#: Largest integer a JSON number may carry exactly (IEEE double): beyond it, clients disagree on the value.
MAX_SAFE_INTEGER = 2**53 - 1
#: Largest JSON request body (a whole form is at most ``forms.MAX_FORM_BYTES``; files go as uploads).
MAX_JSON_BYTES = 1024 * 1024
#: Deepest JSON nesting accepted (our deepest form has 4 levels; Python's parser overflows near 1,000).
MAX_JSON_DEPTH = 64


def check_text(field: str, value: str, limit: int = MAX_TEXT) -> str:
    """``value`` unchanged, or :class:`Invalid` naming ``field`` when it is longer than ``limit``."""
    if len(value) > limit:
        raise Invalid(
            f"{field} is {len(value)} characters long; shorten it to {limit} at most",
            code="input.too_long",
            params={"field": field, "limit": limit},
            errors={field: [f"at most {limit} characters"]},
        )
    return value
