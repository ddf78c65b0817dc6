"""Pure helper functions that scripts, conditions and timer expressions may call.

They are the only callables of ours a script sees (besides a few safe builtins). Each one is
pure, takes and returns JSON-like values, and bounds its own cost, because the fast path runs
them in the engine's own process.
"""

from __future__ import annotations

import datetime as _dt
import math
from zoneinfo import ZoneInfo

__all__ = ["HELPERS", "arrondi", "fin_de_journee", "moyenne"]

PARIS = ZoneInfo("Europe/Paris")

# An ISO date or datetime is never longer than this; refusing longer input keeps parsing cheap.
_MAX_DATE_LEN = 64
# round(5, -10**9) would compute 10**(10**9): cap the number of digits.
_MAX_DIGITS = 100


def fin_de_journee(date_str: str) -> str:
    """Return 23:59:00 Europe/Paris on the given day, as an ISO 8601 string with its offset.

    ``date_str`` is an ISO date (``"2015-02-10"``) or an ISO datetime, whose date is kept
    (a datetime with an offset is first converted to Paris time)::

        fin_de_journee("2015-02-10")  ->  "2015-02-10T23:59:00+01:00"
        fin_de_journee("2015-07-01")  ->  "2015-07-01T23:59:00+02:00"
    """
    if not isinstance(date_str, str) or len(date_str) > _MAX_DATE_LEN:
        raise ValueError(f"fin_de_journee() expects an ISO date like '2015-02-10', got {date_str!r:.80}")
    text = date_str.strip()
    try:
        if len(text) == 10:
            day = _dt.date.fromisoformat(text)
        else:
            moment = _dt.datetime.fromisoformat(text)
            if moment.tzinfo is not None:
                moment = moment.astimezone(PARIS)
            day = moment.date()
    except ValueError:
        raise ValueError(f"fin_de_journee() expects an ISO date like '2015-02-10', got {text!r}") from None
    return _dt.datetime.combine(day, _dt.time(23, 59), tzinfo=PARIS).isoformat()


def moyenne(values: list) -> float:
    """Return the arithmetic mean of a list of numbers as a float, ``0.0`` for an empty list."""
    if isinstance(values, (str, dict)) or not isinstance(values, (list, tuple)):
        raise TypeError(f"moyenne() expects a list of numbers, got {type(values).__name__}")
    if not values:
        return 0.0
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"moyenne() expects numbers only, got {value!r:.80}")
    return float(math.fsum(values) / len(values))


def arrondi(x: float, n: int = 0) -> float | int:
    """Round ``x`` to ``n`` decimal places (Python's ``round``; an int when ``n`` is 0)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"arrondi() expects a number, got {x!r:.80}")
    if isinstance(n, bool) or not isinstance(n, int) or abs(n) > _MAX_DIGITS:
        raise ValueError(f"arrondi() expects a number of digits between -{_MAX_DIGITS} and {_MAX_DIGITS}")
    return round(x) if n == 0 else round(x, n)


HELPERS = {
    "fin_de_journee": fin_de_journee,
    "moyenne": moyenne,
    "arrondi": arrondi,
}
"""Name -> function: the globals every script and expression sees."""
