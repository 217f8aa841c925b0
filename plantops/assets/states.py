"""What a machine says it is doing: the machine states of the MQTT wire contract (v1).
Pure: no Django.

The one list of states. The parser checks messages against it, the models store it, and OEE,
the floor tiles, alerts, maintenance meters and the simulator read it.
"""

from __future__ import annotations

from enum import StrEnum

# Marks the words for the catalogs only (it returns them as they are): screens translate them
# where they are shown, so this module stays free of any active language.
from django.utils.translation import gettext_noop


class MachineState(StrEnum):
    RUNNING = "running"
    IDLE = "idle"
    DOWN = "down"
    PLANNED_STOP = "planned_stop"
    CHANGEOVER = "changeover"

    @property
    def label(self) -> str:
        """The English word a screen shows, translated there ("Planned stop")."""
        return _LABELS[self]


_LABELS = {
    MachineState.RUNNING: gettext_noop("Running"),
    MachineState.IDLE: gettext_noop("Idle"),
    MachineState.DOWN: gettext_noop("Down"),
    MachineState.PLANNED_STOP: gettext_noop("Planned stop"),
    MachineState.CHANGEOVER: gettext_noop("Changeover"),
}


# For the models' `choices`.
CHOICES = [(state.value, state.label) for state in MachineState]
# Stops an operator is asked to explain on the OEE screen (a changeover or a planned stop
# explains itself).
UNEXPLAINED_STOPS = (MachineState.DOWN, MachineState.IDLE)
# Not running, on purpose or for want of work: the floor tile says STOPPED, not DOWN.
STOPPED = frozenset({MachineState.IDLE, MachineState.PLANNED_STOP, MachineState.CHANGEOVER})
