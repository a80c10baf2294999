"""Semantic checks: what the schema cannot see, such as references between sections and the machine's shape.

Each check is a small function from the playbook (and its document, for where things are written) to findings,
kept in a module of its topic; :data:`CHECKS` is the registry that runs them, in this order. They run only on a
playbook whose shape is valid, so they can rely on the typed model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.playbook._checks._approval import check_approvals, check_required_templates
from engine.playbook._checks._calendars import check_calendar_sources, check_calendars
from engine.playbook._checks._clocks import (
    check_days_in_open_hours,
    check_escalation_order,
    check_limits,
    check_opening_hours,
    check_state_limits,
    check_warning_before_breach,
)
from engine.playbook._checks._finding import Check, Context, Finding
from engine.playbook._checks._machine import check_lifecycle, check_reachability, check_targets_end, check_transitions
from engine.playbook._checks._phrases import check_common_words
from engine.playbook._checks._references import check_clocks, check_levels, check_responses, check_roles, check_states
from engine.playbook._checks._replies import PLACEHOLDERS, check_templates
from engine.playbook._checks._unused import check_unused
from engine.playbook._model import Playbook

__all__ = ["CHECKS", "PLACEHOLDERS", "Check", "Finding", "run_checks"]

CHECKS: tuple[Check, ...] = (
    check_roles,
    check_states,
    check_levels,
    check_calendars,
    check_calendar_sources,
    check_responses,
    check_approvals,
    check_clocks,
    check_lifecycle,
    check_reachability,
    check_targets_end,
    check_transitions,
    check_limits,
    check_escalation_order,
    check_opening_hours,
    check_state_limits,
    check_days_in_open_hours,
    check_warning_before_breach,
    check_templates,
    check_required_templates,
    check_common_words,
    check_unused,
)


def run_checks(playbook: Playbook, data: Mapping[str, Any]) -> list[Finding]:
    """Every semantic finding for a shape-valid playbook."""
    context = Context(playbook, data)
    return [finding for check in CHECKS for finding in check(context)]
