"""The semantic checks: each bad fixture is the minimal playbook, shape-valid, with one thing wrong between sections.

Semantic checks run only on a shape-valid playbook, so each fixture here passes the schema and must report exactly
the one problem beside it in the table: code, line, column, and a distinctive part of the message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.files import load_file
from engine.playbook import Severity, load

BAD = Path(__file__).parents[1] / "fixtures" / "playbooks" / "bad"

# fmt: off
CASES = [
    # fixture                        code    line col  the message says
    # --- references between sections (E3xx) ---
    ("undefined-role",               "E300", 17, 58, "which the roles section does not define; did you mean 'lead'?"),
    ("undefined-state",              "E301", 20, 51, "does not define; did you mean 'acknowledged'?"),
    ("undefined-level",              "E302",  8, 39, "which severity.levels does not define; did you mean 'normal'?"),
    ("limit-key-not-a-level",        "E302", 10, 22, "'urgent', which severity.levels does not define (use 'default'"),
    ("undefined-calendar",           "E303", 10, 46, "the calendar 'office', which the calendars section does not"),
    ("undefined-trigger",            "E304", 26,  3, "which no transition has; did you mean 'acknowledge'?"),
    ("undefined-clock",              "E305", 26, 44, "names 'limits', which is neither 'limit'"),
    ("unknown-timezone",             "E306", 11, 15, "not a time zone; did you mean 'Europe/London'?"),
    ("unknown-holidays-country",     "E307", 13, 15, "no public-holiday list for the country 'XX'"),
    ("unknown-holidays-region",      "E307", 13, 15, "GB has no region 'LDN' (regions: ENG, NIR, SCT, WLS)"),
    ("reserved-calendar-name",       "E310", 11,  3, "a calendar cannot be called 'around_the_clock'"),
    ("reserved-state-name",          "E311", 15,  3, "a state cannot be called 'reply'"),
    ("guard-undefined-level",        "E302", 20, 109, "names the level 'hihg', which severity.levels does not"),
    ("reason-role-undefined",        "E300", 13, 39, "do_not_engage_reasons[1].by[1] names the role 'social_lead'"),
    ("duplicate-reason",             "E312", 14, 16, "the reason 'spam' is listed twice"),
    ("offer-for-undefined-role",     "E300", 31, 52, "by[1] names the role 'manager', which the roles section"),
    ("cap-for-role-not-offering",    "E318", 32, 76, "max_amount caps agent, which may not offer a refund (by: lead)"),
    ("amount-without-currency",      "E319", 31, 52, "caps amounts, but the catalogue names no currency"),
    ("undefined-approver",           "E322", 20, 31, "approval.by[1] names the role 'legal', which the roles"),
    ("surge-without-group",          "E330", 29,  1, "this playbook has no group section, so every mention opens"),
    ("surge-does-nothing",           "E331", 31,  5, "surges[0] (spike) does nothing when it fires; give it raise_to"),
    ("rate-without-baseline",        "E332", 31, 43, "gives rate but not over: a rate is compared with the rate"),
    ("surge-opens-own-playbook",     "E333", 31, 60, "this very playbook, whose incidents are what surged"),
    ("surge-name-repeated",          "E334", 32, 12, "surges[1] is named 'spike', as surges[0] is"),
    ("topic-phrase-repeated",        "E335", 33, 26, "already listed under topic 'login' (group.topics.login[0])"),
    ("topic-phrase-empty",           "E336", 32, 20, "'!!!', which has no letters or digits, so no mention ever names"),
    ("surge-undefined-level",        "E302", 31, 53, "surges[0].raise_to names the level 'critcal'"),
    ("surge-undefined-role",         "E300", 31, 52, "surges[0].notify[0] names the role 'directr'"),
    # --- the state machine (E4xx) ---
    ("missing-lifecycle-state",      "E400",  9,  1, "states lacks the lifecycle state resolution_offered"),
    ("unreachable-state",            "E401", 15,  3, "no transition leads from detected to the state 'escalated'"),
    ("dead-end-state",               "E402", 15,  3, "an incident in 'on_hold' can never reach a final state"),
    ("duplicate-transition",         "E403", 18, 29, "'assess' from 'detected' is already defined by transitions[0]"),
    ("final-state-left",             "E404", 22, 29, "'reviewed' is final, so no action may leave it"),
    ("no-final-state",               "E405",  9,  1, "no state is marked 'final: true'"),
    ("review-without-questions",     "E406", 21, 75, "requires a review, but review.questions is empty"),
    ("reason-without-house-rules",   "E407", 23, 85, "house_rules.do_not_engage_reasons lists none"),
    ("final-state-limit",            "E408", 15, 27, "'reviewed' is final, so its clock never runs"),
    ("target-never-ends",            "E409", 17, 47, "no path of transitions leads from 'acknowledged' to it"),
    ("side-path-conflict",           "E410", 19, 80, "lists 'referred', which is also one of its until states"),
    ("reply-never-given",            "E411", 17, 43, "no transition requires a public_reply or a contact_route"),
    ("follow-up-reopen-invalid",     "E412", 14, 57, "'reviewed' is final, and a follow-up cannot close an incident"),
    ("mute-on-open-state",           "E413", 17, 65, "mutes the author, but leads to 'assessed', which is open"),
    ("overlapping-guards",           "E403", 20, 34, "by transitions[1]; both can hold for one incident"),
    ("guard-channel-never-holds",    "E415", 19, 91, "come from twitter (applies_to), so 'acknowledge' could never"),
    ("guard-level-never-holds",      "E415", 20, 96, "where 'escalate' starts (in assessed it can only be low)"),
    ("customer-condition-never-holds", "E415", 13, 70, "together with customer: unknown, which no mention can meet"),
    ("nothing-to-offer",             "E420", 20, 100, "no kind in the offers catalogue may be offered by agent"),
    ("deliver-is-built-in",          "E421", 21, 15, "'deliver' is the built-in action that records a promise kept"),
    ("approval-without-reply",       "E425", 21, 76, "(resolve) asks for approval, but it posts no public reply"),
    ("pause-where-clock-ends",       "E430", 19, 80, "'resolved', which is one of its until states: entering it"),
    ("pause-at-start",               "E431", 19, 65, "'acknowledged', where its clock starts: it would start standing"),
    # --- clocks (E5xx) ---
    ("limit-missing-level",          "E500", 10, 14, "states.detected.limit has no time for high and no 'default'"),
    ("zero-duration",                "E501", 10, 31, "states.detected.limit.default is zero"),
    ("escalation-order",             "E502", 27, 13, "escalation[1] fires at 75%"),
    ("repeat-too-often",             "E503", 26, 48, "escalation[0].repeat_every repeats more than once a minute"),
    ("hours-end-before-start",       "E504", 12, 22, "18:00-09:00 ends before it starts"),
    ("hours-day-listed-twice",       "E504", 12, 37, "hours.fri repeats a day that 'mon-fri' already covers"),
    ("clocks-outside-breach",        "E505", 27, 61, "is for the event opened, which no clock causes"),
    ("business-days-around-the-clock", "E510", 17, 41, "add calendar: office to resolution_offered to count working"),
    ("promise-clock-without-offers", "E515", 28, 51, "names 'promise', but the playbook has no offers catalogue"),
    ("pause-unknown-state",          "E520", 19, 61, "does not define; did you mean 'awaiting_customer'?"),
    ("surge-window-too-short",       "E530", 31, 37, "counts mentions within 5s; a surge is counted in steps"),
    ("surge-out-of-reach",           "E531", 31, 26, "needs 100,000 mentions within 1m, more than 1,000 a second"),
    # --- replies (E6xx) ---
    ("house-rule-broken",            "E600", 27, 16, "says 'calm down', which house_rules.never_say forbids"),
    ("unknown-placeholder",          "E601", 26, 16, "{auther}, which calmly cannot fill; did you mean 'author'?"),
    ("unbalanced-braces",            "E602", 26, 16, "has a '{' or '}' without its pair"),
    ("required-templates-missing",   "E603", 3, 1, "but the action 'acknowledge' has no templates"),
    # --- warnings (W7xx): the playbook still loads, but --strict fails ---
    ("unused-role",                  "W700",  8,  3, "the role 'intern' takes no action"),
    ("unused-calendar",              "W701", 10,  3, "no state or target counts in the calendar 'office'"),
    ("no-time-limit",                "W702", 11,  3, "'assessed' has no time limit"),
    ("review-not-required",          "W703", 21,  5, "'review' closes the incident as reviewed without asking"),
    ("common-word-phrase",           "W705",  5, 71, "keywords_any[1] is 'but', a word nearly every mention has"),
    ("days-in-open-hours",           "W706", 15, 31, "not 1d on the wall clock; if working days are meant, write 1bd"),
    ("no-warning-before-breach",     "W707", 26, 13, "every escalation step comes at or after the breach"),
    ("target-stranded",              "W710", 19, 43, "keeps running in 'referred', but no path leads from there"),
    ("event-never-happens",          "W711", 27, 13, "low is the lowest level, so nothing is ever raised to it"),
    ("uneven-business-days",         "W720", 15, 31, "(9h mon-thu; 7h fri): every business day there counts 9h"),
    ("limit-outlasts-target",        "W721", 12, 31, "'assessed' may last longer than the target 'first_response'"),
    ("reason-nobody-may-give",       "W715", 13, 27, "only lead may give the reason 'troll', but the actions that ask"),
    ("uncapped-offer",               "W725", 32, 59, "lead may offer a refund of any amount"),
    ("offer-role-cannot-act",        "W726", 31, 51, "agent may offer a voucher, but takes no action that carries"),
    ("contact-not-required",         "W727", 29,  1, "the contact section says which contacts are accepted, but no"),
    ("templates-required-without-reply", "W730", 21, 78, "(resolve) says its replies must come from the templates"),
    ("pause-never-applies",          "W740", 19, 69, "no path from 'detected' reaches it while first_response runs"),
    ("surge-never-raises",           "W750", 31, 53, "raises to low, the lowest level, so it never raises anything"),
    ("rate-not-above-baseline",      "W751", 31, 49, "fires at 1x the earlier rate, which is no rise at all"),
    ("baseline-shorter-than-window", "W752", 31, 58, "compares 1h with the 10m before it"),
    ("group-topic-common-word",      "W705", 32, 27, "group.topics.login[1] is 'but', a word nearly every mention"),
]
# fmt: on


@pytest.mark.parametrize(
    ("fixture", "code", "line", "column", "says"), [pytest.param(*case, id=case[0]) for case in CASES]
)
def test_reports_exactly_one_problem_with_its_code_line_and_column(
    fixture: str, code: str, line: int, column: int, says: str
) -> None:
    path = BAD / f"{fixture}.yaml"

    result = load_file(path)

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == [(code, line, column)]
    (problem,) = result.problems
    assert says in problem.message
    assert "\n" not in problem.message
    assert problem.file == path.as_posix()


@pytest.mark.parametrize("fixture", [fixture for fixture, code, *_ in CASES if code[0] == "E"])
def test_an_error_leaves_no_playbook(fixture: str) -> None:
    result = load_file(BAD / f"{fixture}.yaml")

    assert result.playbook is None
    assert [problem.severity for problem in result.problems] == [Severity.ERROR]


@pytest.mark.parametrize("fixture", [fixture for fixture, code, *_ in CASES if code[0] == "W"])
def test_a_warning_still_yields_the_playbook(fixture: str) -> None:
    result = load_file(BAD / f"{fixture}.yaml")

    assert result.playbook is not None
    assert [problem.severity for problem in result.problems] == [Severity.WARNING]


# --- a state's limit against the targets it runs under (W721) ---------------------------------------------------

_OUTLASTS = (BAD / "limit-outlasts-target.yaml").read_text(encoding="utf-8")


def _codes(text: str) -> list[str]:
    return [problem.code for problem in load(text, "outlasts.yaml").problems]


def test_a_warning_step_on_the_target_is_enough_for_a_state_that_outlasts_it() -> None:
    warned = _OUTLASTS.replace(
        "clocks: [limit], description: A warning", "clocks: [limit, first_response], description: A"
    )

    assert _codes(warned) == []


def test_a_state_no_longer_than_the_target_is_not_warned_about() -> None:
    assert _codes(_OUTLASTS.replace("assessed: {limit: {default: 4h}}", "assessed: {limit: {default: 1h}}")) == []


def test_a_state_past_the_targets_end_is_not_on_its_way() -> None:
    # acknowledged (1d) comes after first_response has stopped there, so it never runs under it.
    text = _OUTLASTS.replace("assessed: {limit: {default: 4h}}", "assessed: {limit: {default: 45m}}")

    assert _codes(text) == []


def test_only_the_levels_where_the_state_outlasts_the_target_are_named() -> None:
    text = _OUTLASTS.replace("levels: [normal], default: normal", "levels: [normal, urgent], default: normal").replace(
        "within: {default: 1h}", "within: {urgent: 30m, default: 8h}"
    )

    [problem] = load(text, "outlasts.yaml").problems
    assert problem.code == "W721"
    assert "(urgent: 4h against 30m)" in problem.message


# --- working days in an offer's time to deliver (W706, E510) -----------------------------------------------------

_COMPLAINT = (Path(__file__).resolve().parents[2] / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8")


def test_days_to_deliver_an_offer_on_an_office_calendar_are_warned_about_with_their_business_days() -> None:
    text = _COMPLAINT.replace(
        "deliver_within: {default: 16h}, calendar: office}", "deliver_within: {default: 2d}, calendar: office}"
    )

    [problem] = load(text, "complaint.yaml").problems

    assert problem.code == "W706"
    assert problem.message.startswith("offers.kinds.refund.deliver_within.default is 2d on the calendar 'office'")
    assert problem.message.endswith("if working days are meant, write 2bd")


def test_business_days_to_deliver_an_offer_counted_around_the_clock_are_an_error_naming_the_offer() -> None:
    text = _COMPLAINT.replace(
        "deliver_within: {critical: 1d, default: 3d}}", "deliver_within: {critical: 1d, default: 3bd}}"
    )

    [problem] = load(text, "complaint.yaml").problems

    assert problem.code == "E510"
    assert "the offer 'replacement' counts around the clock" in problem.message
    assert "add calendar: office to replacement to count working days, or write 3d" in problem.message
