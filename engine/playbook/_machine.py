"""Compiling a playbook into one ``transitions.Machine``.

One machine per playbook version serves every incident: incidents are never registered as models (that costs
~10 KB each and is quadratic). The runtime reads where each action leads from the machine's compiled transitions
(``machine.events[trigger].transitions[source]``); firing the event on a stand-in object gives the same state at
twenty times the cost, since playbook transitions carry no conditions or callbacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.playbook._model import LIFECYCLE, Playbook

if TYPE_CHECKING:
    from transitions import Machine

__all__ = ["compile_machine", "machine_spec"]


def machine_spec(playbook: Playbook) -> dict[str, Any]:
    """The keyword arguments that describe the playbook's machine to ``transitions`` (and its diagram classes)."""
    return {
        "states": [{"name": name, "final": state.final} for name, state in playbook.states.items()],
        "transitions": [
            {"trigger": transition.trigger, "source": list(transition.sources), "dest": transition.dest}
            for transition in playbook.transitions
        ],
        "initial": LIFECYCLE[0],
        "auto_transitions": False,
        "ignore_invalid_triggers": False,
    }


def compile_machine(playbook: Playbook) -> Machine:
    """The runtime machine of a valid playbook, with no models attached."""
    from transitions import Machine  # noqa: PLC0415 - validating never needs it; importing it costs start-up time

    return Machine(model=None, **machine_spec(playbook))
