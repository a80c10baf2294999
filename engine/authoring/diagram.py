"""State-machine diagrams of a playbook, drawn by ``transitions``' own diagram support.

Each edge is labelled with its action, the roles allowed to take it and, for a reply that needs approval, who
approves it; final states are marked (a double border in DOT, an arrow to ``[*]`` in Mermaid).
"""

from __future__ import annotations

import enum
from typing import Any

from engine.playbook import Playbook, Transition, machine_spec

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
    approval = transition.approval
    approved = f"; approved by {' or '.join(approval.by)}" if approval else ""
    return f"{transition.trigger} ({', '.join(transition.by)}{approved})"


def draw(playbook: Playbook, fmt: DiagramFormat) -> str:
    """The diagram's source text: a Mermaid ``stateDiagram-v2`` or a Graphviz ``digraph``."""
    from transitions.extensions import GraphMachine  # noqa: PLC0415 - only drawing needs the diagram classes

    spec: dict[str, Any] = machine_spec(playbook)
    by_trigger = {(t.trigger, t.dest, t.sources): t for t in playbook.transitions}
    spec["transitions"] = [
        {**edge, "label": _label(by_trigger[(edge["trigger"], edge["dest"], tuple(edge["source"]))])}
        for edge in spec["transitions"]
    ]
    machine = GraphMachine(
        model=None,
        graph_engine=_ENGINES[fmt],
        # Mermaid reads the title from YAML front matter, so it needs the key there.
        title=("title: " if fmt is DiagramFormat.MERMAID else "") + f"{playbook.id} v{playbook.version}",
        show_state_attributes=False,
        **spec,
    )
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
