"""Timer event definitions that read the engine's clock instead of ``datetime.now()``.

SpiffWorkflow 3.2 compares timer dates with the wall clock. Our commands run at an instant
taken from the injected clock (and replay re-runs them at the journaled instant), so these
subclasses compare with :func:`engine.clock.command_time`. They are plugged in through the
parser's override map and the serializer config, never by patching SpiffWorkflow.
"""

from __future__ import annotations

import re
from datetime import datetime

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from ..clock import command_time

HORIZON_YEARS = 10
"""A timer may not be due further ahead than this: a larger value is a modelling error."""

_MAX_TEXT = 64  # an ISO date or duration is never longer; parsing longer text is not attempted
# Non-negative ISO 8601 durations only (a fraction on the last part, as SpiffWorkflow reads them).
_DURATION = re.compile(r"P(?=\d|T\d)(\d+(?:[.,]\d+)?[YMWD])*(T(?=\d)(\d+(?:[.,]\d+)?[HMS])+)?", re.IGNORECASE)
# Upper bounds of each designator in days, to refuse a huge duration before SpiffWorkflow adds
# its months one by one (a loop in the engine's process).
_DAYS = {"Y": 366, "W": 7, "D": 1, "H": 1 / 24, "S": 1 / 86400}
_MONTH_DAYS, _MINUTE_DAYS = 31, 1 / 1440


def _due(my_task) -> str | None:
    return my_task.internal_data.get("event_value")


def _horizon(now: datetime) -> datetime:
    try:
        return now.replace(year=now.year + HORIZON_YEARS)
    except ValueError:  # 29 February
        return now.replace(year=now.year + HORIZON_YEARS, day=28)


class TimerValueError(ValueError):
    """A timer expression's value is not a date or duration the engine accepts (the message says why)."""


def _refuse(my_task, message: str) -> WorkflowTaskException:
    return WorkflowTaskException(f"Timer expression {my_task.task_spec.event_definition.expression!r:.200}: "
                                 f"{message}; fix the expression or the data it reads", task=my_task)


def due_date(value, now: datetime) -> datetime:
    """The UTC instant a timeDate expression's ``value`` names, at most 10 years after ``now``;
    :class:`TimerValueError` saying why not."""
    if isinstance(value, datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        raise TimerValueError(f"it must give an ISO 8601 date such as '2015-02-10T23:59:00+01:00', "
                             f"got {type(value).__name__}")
    text = value.strip()
    if text[:1] in ("P", "p"):
        raise TimerValueError(f"a timeDate needs a date, not a duration ({text!r:.80}); use timeDuration")
    try:
        if len(text) > _MAX_TEXT:
            raise ValueError("too long")
        due = TimerEventDefinition.parse_time_or_duration(text)
        if not isinstance(due, datetime):
            raise ValueError("not a date")
    except (ValueError, OverflowError, AttributeError, TypeError):
        raise TimerValueError(f"{text!r:.80} is not a valid date (ISO 8601, e.g. '2015-02-10T23:59:00+01:00')") \
            from None
    if due > _horizon(now):
        raise TimerValueError(f"{text!r:.80} is more than {HORIZON_YEARS} years ahead")
    return due


def due_after(value, now: datetime) -> datetime:
    """The UTC instant a timeDuration expression's ``value`` after ``now``, at most 10 years ahead;
    :class:`TimerValueError` saying why not."""
    if not isinstance(value, str):
        raise TimerValueError(f"it must give an ISO 8601 duration such as 'P15D', got {type(value).__name__}")
    text = value.strip()
    if len(text) > _MAX_TEXT or not _DURATION.fullmatch(text):
        raise TimerValueError(f"{text!r:.80} is not a valid ISO 8601 duration (e.g. 'P15D', 'PT36H', 'P2M')")
    date_part, _, time_part = text.upper().partition("T")
    days = sum(float(number.replace(",", ".")) * (_MONTH_DAYS if unit == "M" else _DAYS[unit])
               for number, unit in re.findall(r"([\d.,]+)([YMWD])", date_part))
    days += sum(float(number.replace(",", ".")) * (_MINUTE_DAYS if unit == "M" else _DAYS[unit])
                for number, unit in re.findall(r"([\d.,]+)([HMS])", time_part))
    if days > HORIZON_YEARS * 366:  # before SpiffWorkflow's month-by-month loop
        raise TimerValueError(f"{text!r:.80} reaches more than {HORIZON_YEARS} years ahead")
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
        due = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
    except Exception as err:  # SpiffWorkflow raises a bare Exception("Invalid duration")
        raise TimerValueError(f"{text!r:.80} is not a valid ISO 8601 duration ({err})") from err
    if due > _horizon(now):
        raise TimerValueError(f"{text!r:.80} reaches more than {HORIZON_YEARS} years ahead")
    return due


def checked_date(my_task, value, now: datetime) -> datetime:
    """:func:`due_date`, refused as the task's error."""
    try:
        return due_date(value, now)
    except TimerValueError as err:
        raise _refuse(my_task, str(err)) from None


def checked_duration(my_task, value, now: datetime) -> datetime:
    """:func:`due_after`, refused as the task's error."""
    try:
        return due_after(value, now)
    except TimerValueError as err:
        raise _refuse(my_task, str(err)) from None


class ClockedTimeDateEventDefinition(TimeDateEventDefinition):
    """A timer at a date given by an expression (for instance a campaign deadline)."""

    def has_fired(self, my_task):
        if _due(my_task) is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            # Normalise once so the timer table and the journal hold one canonical UTC instant.
            my_task.internal_data["event_value"] = checked_date(my_task, value, command_time()).isoformat()
        if TimerEventDefinition.get_datetime(_due(my_task)) <= command_time():
            my_task.internal_data["event_fired"] = True
        return my_task.internal_data.get("event_fired", False)


class ClockedDurationTimerEventDefinition(DurationTimerEventDefinition):
    """A timer a duration after the task was reached (ISO 8601 duration expression)."""

    def has_fired(self, my_task):
        if _due(my_task) is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            due: datetime = checked_duration(my_task, value, command_time())
            my_task.internal_data["event_value"] = due.isoformat()
        if TimerEventDefinition.get_datetime(_due(my_task)) <= command_time():
            my_task.internal_data["event_fired"] = True
        return my_task.internal_data.get("event_fired", False)


def clocked(definition):
    """Return the clocked equivalent of a parsed timer definition (others unchanged)."""
    for base, clocked_class in (
        (TimeDateEventDefinition, ClockedTimeDateEventDefinition),
        (DurationTimerEventDefinition, ClockedDurationTimerEventDefinition),
    ):
        if type(definition) is base:
            return clocked_class(definition.name, definition.expression, description=definition.description)
    return definition
