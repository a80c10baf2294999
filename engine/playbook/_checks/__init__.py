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
    check_escalation_order,
    check_limits,
    check_opening_hours,
    check_state_limits,
    check_warning_before_breach,
)
from engine.playbook._checks._events import check_event_clocks, check_events_happen
from engine.playbook._checks._finding import Check, Context, Finding
from engine.playbook._checks._guards import check_conditions_hold, check_guards_hold, check_reasons
from engine.playbook._checks._machine import (
    check_follow_ups,
    check_lifecycle,
    check_mutes,
    check_reachability,
    check_reply_possible,
    check_side_paths,
    check_targets_end,
    check_targets_stranded,
    check_transitions,
)
from engine.playbook._checks._offers import check_contact, check_offers
from engine.playbook._checks._pauses import check_pauses
from engine.playbook._checks._phrases import check_common_words
from engine.playbook._checks._references import check_clocks, check_levels, check_responses, check_roles, check_states
from engine.playbook._checks._replies import PLACEHOLDERS, check_templates
from engine.playbook._checks._surges import check_grouping, check_surges
from engine.playbook._checks._targets import check_limits_within_targets
from engine.playbook._checks._unused import check_unused
from engine.playbook._checks._working_days import check_business_days, check_days_in_open_hours
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
    check_offers,
    check_contact,
    check_lifecycle,
    check_reachability,
    check_targets_end,
    check_side_paths,
    check_pauses,
    check_targets_stranded,
    check_reply_possible,
    check_follow_ups,
    check_mutes,
    check_transitions,
    check_reasons,
    check_guards_hold,
    check_conditions_hold,
    check_limits,
    check_escalation_order,
    check_opening_hours,
    check_state_limits,
    check_days_in_open_hours,
    check_business_days,
    check_warning_before_breach,
    check_event_clocks,
    check_events_happen,
    check_limits_within_targets,
    check_grouping,
    check_surges,
    check_templates,
    check_required_templates,
    check_common_words,
    check_unused,
)


def run_checks(playbook: Playbook, data: Mapping[str, Any]) -> list[Finding]:
    """Every semantic finding for a shape-valid playbook."""
    context = Context(playbook, data)
    return [finding for check in CHECKS for finding in check(context)]
