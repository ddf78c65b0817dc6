"""Timer event definitions that read the engine's clock instead of ``datetime.now()``.

SpiffWorkflow 3.2 compares timer dates with the wall clock. Our commands run at an instant
taken from the injected clock (and replay re-runs them at the journaled instant), so these
subclasses compare with :func:`engine.clock.command_time`. They are plugged in through the
parser's override map and the serializer config, never by patching SpiffWorkflow.
"""

from __future__ import annotations

from datetime import timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from ..clock import command_time


def _due(my_task) -> str | None:
    return my_task.internal_data.get("event_value")


class ClockedTimeDateEventDefinition(TimeDateEventDefinition):
    """A timer at a date given by an expression (for instance a campaign deadline)."""

    def has_fired(self, my_task):
        if _due(my_task) is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            # Normalise once so the timer table and the journal hold one canonical UTC instant.
            my_task.internal_data["event_value"] = TimerEventDefinition.parse_time_or_duration(
                value
            ).isoformat()
        if TimerEventDefinition.get_datetime(_due(my_task)) <= command_time():
            my_task.internal_data["event_fired"] = True
        return my_task.internal_data.get("event_fired", False)


class ClockedDurationTimerEventDefinition(DurationTimerEventDefinition):
    """A timer a duration after the task was reached (ISO 8601 duration expression)."""

    def has_fired(self, my_task):
        if _due(my_task) is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            start = command_time()
            delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
            my_task.internal_data["event_value"] = (start + delta).isoformat()
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
