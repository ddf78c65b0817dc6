"""The numbers of the account rules, as the pages state them: password lengths, the window of the
login throttle, and how long each e-mailed link is valid. Read from the modules that enforce
them, so that a page never states a number the engine does not apply."""

from __future__ import annotations

from datetime import timedelta

from . import accounts, organisations, registration, throttle


def account_policy() -> dict[str, int]:
    """``min_password``/``max_password`` (characters), ``throttle_minutes``, ``verify_hours``,
    ``reset_hours`` and ``invite_days``: whole numbers, for the pages' sentences."""
    return {
        "min_password": accounts.MIN_PASSWORD,
        "max_password": accounts.MAX_PASSWORD,
        "throttle_minutes": throttle.WINDOW // timedelta(minutes=1),
        "verify_hours": registration.VERIFY_FOR // timedelta(hours=1),
        "reset_hours": registration.RESET_FOR // timedelta(hours=1),
        "invite_days": organisations.INVITE_FOR // timedelta(days=1),
    }
