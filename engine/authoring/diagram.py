"""State-machine diagrams of a playbook, drawn by ``transitions``' own diagram support.

Each edge is labelled with its action, the roles allowed to take it, its guard if any and, for a reply that needs
approval, who approves it; each state with its time limit as the playbook writes it (``3bd on office``); final
states are marked (a double border in DOT, an arrow to ``[*]`` in Mermaid).
"""

from __future__ import annotations

import enum
from typing import Any

from engine.playbook import Playbook, State, Transition, machine_spec

__all__ = ["DiagramFormat", "draw"]


class DiagramFormat(enum.StrEnum):
    MERMAID = "mermaid"
    DOT = "dot"


_ENGINES: dict[DiagramFormat, Any] = {DiagramFormat.MERMAID: "mermaid", DiagramFormat.DOT: "graphviz"}
_FINAL_STYLE = {
    DiagramFormat.MERMAID: {"fill": "#e8e8e8", "stroke-width": "3px"},
    DiagramFormat.DOT: {"peripheries": "2", "fillcolor": "#e8e8e8"},
}


def _label(transition: Transition) -> str:
    """``do_not_engage (social_lead) when medium, high, critical``: the action, its roles, and its guard if any."""
    approval = transition.approval
    approved = f"; approved by {' or '.join(approval.by)}" if approval else ""
    label = f"{transition.trigger} ({', '.join(transition.by)}{approved})"
    guard = transition.when
    if guard is None:
        return label
    facts = [
        *([", ".join(guard.severities)] if guard.severities else []),
        *([f"on {', '.join(guard.channels)}"] if guard.channels else []),
        *([f"customer {guard.customer.value}"] if guard.customer else []),
        *([f"segment {', '.join(guard.customer_segments_any)}"] if guard.customer_segments_any else []),
    ]
    return f"{label} when {'; '.join(facts)}"


def _state_label(state: State) -> str:
    """``detected (critical 15m, default 4h)``, ``resolved (3bd on office)``: the limit as written, by level."""
    if state.limit is None or not state.limit.written:
        return state.name
    written = state.limit.written
    times = (
        written["default"]
        if list(written) == ["default"]
        else ", ".join(f"{level} {value}" for level, value in written.items())
    )
    where = f" on {state.calendar}" if state.calendar else ""
    return f"{state.name} ({times}{where})"


def draw(playbook: Playbook, fmt: DiagramFormat) -> str:
    """The diagram's source text: a Mermaid ``stateDiagram-v2`` or a Graphviz ``digraph``."""
    from transitions.extensions import GraphMachine  # noqa: PLC0415 - only drawing needs the diagram classes

    spec: dict[str, Any] = machine_spec(playbook)
    # The spec lists the playbook's transitions in order: each edge is labelled by its own (one action may have
    # several transitions from a state, told apart by their guards).
    spec["transitions"] = [
        {**edge, "label": _label(transition)}
        for edge, transition in zip(spec["transitions"], playbook.transitions, strict=True)
    ]
    machine = GraphMachine(
        model=None,
        graph_engine=_ENGINES[fmt],
        # Mermaid reads the title from YAML front matter, so it needs the key there.
        title=("title: " if fmt is DiagramFormat.MERMAID else "") + f"{playbook.id} v{playbook.version}",
        show_state_attributes=False,
        **spec,
    )
    # Labels go on the drawing's own description of the states: the machine itself takes no labels.
    for described in machine.get_markup_config()["states"]:
        described["label"] = _state_label(playbook.states[described["name"]])
    styles: Any = machine.style_attributes
    styles["node"]["final"] = _FINAL_STYLE[fmt]
    graph_class = machine.graph_cls
    graph = graph_class(machine)
    for name, state in playbook.states.items():
        if state.final:
            graph.set_node_style(name, "final")
    drawn: Any = graph.get_graph()
    text = str(drawn.source)
    if fmt is DiagramFormat.MERMAID:
        finals = [f"  {name} --> [*]" for name, state in playbook.states.items() if state.final]
        text = text.rstrip("\n") + "\n" + "\n".join(finals)
    return text.rstrip("\n") + "\n"
