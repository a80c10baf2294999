"""Compiling a playbook into one ``transitions.Machine``.

One machine per playbook version serves every incident: incidents are never registered as models (that costs
~10 KB each and is quadratic). The runtime reads where each action leads from the machine's compiled transitions
(``machine.events[trigger].transitions[source]``); firing the event on a stand-in object gives the same state at
twenty times the cost. A transition's guard (``when``) is its condition, given by whoever builds the machine: the
playbook says which facts it needs, the runtime knows the incident's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.playbook._model import LIFECYCLE, Guard, Playbook

if TYPE_CHECKING:
    from transitions import Machine

__all__ = ["GuardCondition", "compile_machine", "machine_spec"]


#: Makes a guard into a ``transitions`` condition: a callable given the event's keyword arguments.
GuardCondition = Callable[[Guard], Callable[..., bool]]


def machine_spec(playbook: Playbook, condition: GuardCondition | None = None) -> dict[str, Any]:
    """The keyword arguments that describe the playbook's machine to ``transitions`` (and its diagram classes);
    with ``condition``, each guarded transition has its guard as its condition."""
    return {
        "states": [{"name": name, "final": state.final} for name, state in playbook.states.items()],
        "transitions": [
            {
                "trigger": transition.trigger,
                "source": list(transition.sources),
                "dest": transition.dest,
                **({"conditions": [condition(transition.when)]} if condition and transition.when else {}),
            }
            for transition in playbook.transitions
        ],
        "initial": LIFECYCLE[0],
        "auto_transitions": False,
        "ignore_invalid_triggers": False,
    }


def compile_machine(playbook: Playbook, condition: GuardCondition | None = None) -> Machine:
    """The runtime machine of a valid playbook, with no models attached (see :func:`machine_spec`)."""
    from transitions import Machine  # noqa: PLC0415 - validating never needs it; importing it costs start-up time

    return Machine(model=None, **machine_spec(playbook, condition))
