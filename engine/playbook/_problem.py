"""Problems found in a playbook, and the registry of their stable codes.

A code never changes meaning once released: users silence, grep and document them. Codes are grouped by the
stage that finds them: E1xx reading the file, E2xx its shape (the JSON Schema), E3xx references between sections,
E4xx the state machine, E5xx clocks, E6xx replies; W7xx are warnings, which fail only under ``--strict``; E8xx are
problems in timelines and playbook tests (the files ``calmly simulate`` and ``calmly test`` read); E9xx and W9xx are
set-up findings about the playbooks, the roster and the environment together (``calmly check``, the daemon at start).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

__all__ = ["Path", "Problem", "Rule", "Severity", "all_rules", "dotted", "rules"]

#: A location inside the document: mapping keys and list indexes from the top.
Path = tuple[str | int, ...]


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of problem: a stable code, a short name and what it means."""

    code: str
    name: str
    severity: Severity
    summary: str


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem at one place in one file, with a message a comms lead can act on."""

    rule: Rule
    file: str
    line: int
    column: int
    message: str
    path: Path = ()

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def located(self) -> str:
        """``file:line:column: CODE message``: how every command shows a problem."""
        return f"{self.file}:{self.line}:{self.column}: {self.code} {self.message}"

    @property
    def severity(self) -> Severity:
        return self.rule.severity


def _e(code: str, name: str, summary: str) -> Rule:
    return Rule(code, name, Severity.ERROR, summary)


def _w(code: str, name: str, summary: str) -> Rule:
    return Rule(code, name, Severity.WARNING, summary)


class rules:
    """Every rule calmly checks. The docs page docs/problems.md lists the same codes (a test keeps them equal)."""

    UNREADABLE: Final = _e("E100", "unreadable-file", "The file cannot be opened or read.")
    NOT_UTF8: Final = _e("E101", "not-utf8", "The file is not UTF-8 text.")
    BINARY: Final = _e("E102", "binary-file", "The file is binary, not a text playbook.")
    TOO_LARGE: Final = _e("E103", "file-too-large", "The file is larger than a playbook can be.")
    EMPTY: Final = _e("E104", "empty-file", "The file holds no playbook.")
    YAML_SYNTAX: Final = _e("E105", "yaml-syntax", "The YAML cannot be read.")
    DUPLICATE_KEY: Final = _e("E106", "duplicate-key", "A key appears twice in the same mapping.")
    ANCHOR: Final = _e("E107", "anchor-or-alias", "YAML anchors and aliases are not allowed.")
    TAG: Final = _e("E108", "yaml-tag", "YAML tags (such as !!python/object) are not allowed.")
    NOT_A_MAPPING: Final = _e("E109", "not-a-mapping", "The top level of a playbook must be a mapping.")
    DUPLICATE_PLAYBOOK: Final = _e("E110", "duplicate-playbook", "Two files define the same playbook id.")
    NOT_A_PLAYBOOK: Final = _e("E111", "not-a-playbook", "The file is another kind of calmly file, not a playbook.")
    TOO_DEEP: Final = _e("E112", "nesting-too-deep", "Lists and mappings nested deeper than any calmly file needs.")
    NUMBER_TOO_LARGE: Final = _e("E113", "number-too-large", "A number too large for calmly to keep.")

    UNKNOWN_KEY: Final = _e("E200", "unknown-key", "A key the playbook language does not have.")
    MISSING_KEY: Final = _e("E201", "missing-key", "A required key is missing.")
    WRONG_TYPE: Final = _e("E202", "wrong-type", "A value of the wrong kind (text, number, list, mapping).")
    NOT_ALLOWED: Final = _e("E203", "value-not-allowed", "A value outside the closed set of allowed values.")
    BAD_DURATION: Final = _e("E204", "bad-duration", "A duration not written like 30s, 15m, 4h, 1d, 1w or 1h30m.")
    BAD_PERCENTAGE: Final = _e("E205", "bad-percentage", "A percentage not written like 75%.")
    BAD_NAME: Final = _e("E206", "bad-name", "A name that is not lower-case letters, digits and underscores.")
    BAD_HOURS: Final = _e("E207", "bad-hours", "Opening hours not written like 09:00-18:00.")
    INVALID_VALUE: Final = _e("E208", "invalid-value", "A value that breaks a limit of the language.")

    UNDEFINED_ROLE: Final = _e("E300", "undefined-role", "A role that the playbook's roles section lacks.")
    UNDEFINED_STATE: Final = _e("E301", "undefined-state", "A state that the states section lacks.")
    UNDEFINED_LEVEL: Final = _e("E302", "undefined-level", "A severity level that severity.levels lacks.")
    UNDEFINED_CALENDAR: Final = _e("E303", "undefined-calendar", "A calendar that the calendars section lacks.")
    UNDEFINED_TRIGGER: Final = _e("E304", "undefined-trigger", "A reply template for an action no transition has.")
    UNDEFINED_CLOCK: Final = _e("E305", "undefined-clock", "An escalation clock that is neither limit nor a target.")
    UNKNOWN_TIMEZONE: Final = _e("E306", "unknown-timezone", "A time zone the IANA database does not know.")
    UNKNOWN_HOLIDAYS: Final = _e("E307", "unknown-holidays", "A country or region with no public-holiday list.")
    SURGE_WITHOUT_GROUP: Final = _e("E330", "surge-without-group", "Surge rules in a playbook with no group section.")
    SURGE_DOES_NOTHING: Final = _e("E331", "surge-does-nothing", "A surge rule with no raise_to, open or notify.")
    RATE_WITHOUT_BASELINE: Final = _e(
        "E332", "rate-without-baseline", "A surge rule with a rate but no baseline time (over), or the reverse."
    )
    SURGE_OPENS_OWN_PLAYBOOK: Final = _e(
        "E333", "surge-opens-own-playbook", "A surge rule that opens its crisis incident under its own playbook."
    )
    SURGE_NAME_REPEATED: Final = _e("E334", "surge-name-repeated", "Two surge rules with the same name.")
    TOPIC_PHRASE_REPEATED: Final = _e(
        "E335", "topic-phrase-repeated", "A group topic phrase listed twice, under one topic or two."
    )
    TOPIC_PHRASE_EMPTY: Final = _e("E336", "topic-phrase-empty", "A group topic phrase with no letters or digits.")
    RESERVED_STATE_NAME: Final = _e(
        "E311", "reserved-state-name", "A state named follow_up or reply, words targets keep for themselves."
    )
    RESERVED_CALENDAR_NAME: Final = _e(
        "E310", "reserved-calendar-name", "A calendar named around_the_clock, which the language keeps for no calendar."
    )
    DUPLICATE_REASON: Final = _e("E312", "duplicate-reason", "A do-not-engage reason listed twice in the house rules.")
    CAP_FOR_ROLE_NOT_OFFERING: Final = _e(
        "E318", "cap-for-role-not-offering", "An offer's amount cap for a role that may not make the offer."
    )
    AMOUNT_WITHOUT_CURRENCY: Final = _e(
        "E319", "amount-without-currency", "Offers with amount caps, and no currency for the catalogue."
    )
    UNDEFINED_APPROVER: Final = _e(
        "E322", "undefined-approver", "An approval names a role that the playbook's roles section lacks."
    )

    MISSING_LIFECYCLE_STATE: Final = _e("E400", "missing-lifecycle-state", "A core lifecycle state is missing.")
    UNREACHABLE_STATE: Final = _e("E401", "unreachable-state", "No path of transitions leads to the state.")
    DEAD_END_STATE: Final = _e("E402", "dead-end-state", "A non-final state from which no final state is reached.")
    DUPLICATE_TRANSITION: Final = _e("E403", "duplicate-transition", "The same action twice from the same state.")
    FINAL_STATE_LEFT: Final = _e("E404", "final-state-left", "A transition leaves a final state.")
    NO_FINAL_STATE: Final = _e("E405", "no-final-state", "No state is marked final.")
    REVIEW_WITHOUT_QUESTIONS: Final = _e(
        "E406", "review-without-questions", "A transition requires a review but there are no questions."
    )
    REASON_WITHOUT_HOUSE_RULES: Final = _e(
        "E407", "reason-without-house-rules", "A transition requires a reason but the house rules list none."
    )
    APPROVAL_WITHOUT_REPLY: Final = _e(
        "E425", "approval-without-reply", "An approval on a transition that posts no public reply."
    )
    FINAL_STATE_LIMIT: Final = _e("E408", "final-state-limit", "A final state has a time limit.")
    TARGET_NEVER_ENDS: Final = _e(
        "E409", "target-never-ends", "A target whose until states no path of transitions reaches from its from."
    )
    REPLY_NEVER_GIVEN: Final = _e(
        "E411", "reply-never-given", "A target until reply, but no transition asks for a public reply or contact route."
    )
    FOLLOW_UP_REOPEN_INVALID: Final = _e(
        "E412", "follow-up-reopen-invalid", "A reopen_on_follow_up on a final state, or into one."
    )
    MUTE_ON_OPEN_STATE: Final = _e(
        "E413", "mute-on-open-state", "An action that mutes the author but leaves the incident open."
    )
    SIDE_PATH_CONFLICT: Final = _e(
        "E410", "side-path-conflict", "A target's stops_on state that is also its from or one of its until states."
    )
    NEVER_HOLDS: Final = _e("E415", "never-holds", "A guard or condition that no incident or mention can ever meet.")
    NOTHING_TO_OFFER: Final = _e(
        "E420", "nothing-to-offer", "An action carries an offer, but no kind in the catalogue is for its roles."
    )
    DELIVER_IS_BUILT_IN: Final = _e(
        "E421", "deliver-is-built-in", "A transition named deliver, the built-in action of the offers catalogue."
    )
    PAUSE_WHERE_CLOCK_ENDS: Final = _e(
        "E430", "pause-where-clock-ends", "A target paused in a state where its clock ends: until, stops_on or final."
    )
    PAUSE_AT_START: Final = _e("E431", "pause-at-start", "A target paused in the state its clock starts in.")

    LIMIT_MISSING_LEVEL: Final = _e(
        "E500", "limit-missing-level", "A limit with no value for some severity level and no default."
    )
    ZERO_DURATION: Final = _e("E501", "zero-duration", "A duration or percentage of zero.")
    ESCALATION_ORDER: Final = _e("E502", "escalation-order", "Escalation thresholds that do not increase.")
    REPEAT_TOO_OFTEN: Final = _e("E503", "repeat-too-often", "An escalation that repeats more than once a minute.")
    BAD_OPENING_HOURS: Final = _e("E504", "bad-opening-hours", "Opening hours that end before they start or overlap.")
    CLOCKS_OUTSIDE_BREACH: Final = _e(
        "E505", "clocks-outside-breach", "A notify_on rule names clocks, but its event is not breach."
    )
    BUSINESS_DAYS_AROUND_THE_CLOCK: Final = _e(
        "E510", "business-days-around-the-clock", "Business days (2bd) on a clock with no calendar."
    )
    PROMISE_CLOCK_WITHOUT_OFFERS: Final = _e(
        "E515", "promise-clock-without-offers", "An escalation step for promises, with no offers catalogue."
    )
    PAUSE_UNKNOWN_STATE: Final = _e("E520", "pause-unknown-state", "A target's paused_in names an undefined state.")
    SURGE_WINDOW_TOO_SHORT: Final = _e(
        "E530", "surge-window-too-short", "A surge window too short to count mentions in (under 10 seconds)."
    )
    SURGE_OUT_OF_REACH: Final = _e(
        "E531", "surge-out-of-reach", "A surge count that needs more than 1,000 mentions a second."
    )

    HOUSE_RULE_BROKEN: Final = _e("E600", "house-rule-broken", "A reply template says what the house rules forbid.")
    UNKNOWN_PLACEHOLDER: Final = _e("E601", "unknown-placeholder", "A reply template uses an unknown placeholder.")
    MALFORMED_TEMPLATE: Final = _e("E602", "malformed-template", "A reply template with unbalanced braces.")
    TEMPLATES_REQUIRED_NONE_GIVEN: Final = _e(
        "E603", "required-templates-missing", "Public replies must come from the templates, but the action has none."
    )

    TIMELINE_EVENT: Final = _e("E800", "timeline-event", "A timeline event that is neither a mention nor an action.")
    UNKNOWN_PERSON: Final = _e("E801", "unknown-person", "An action by someone the timeline's people do not list.")
    EVENT_ORDER: Final = _e("E802", "event-order", "Timeline events or expectations out of time order.")
    BAD_MENTION: Final = _e("E803", "bad-mention", "A mention in a timeline that is not a valid mention.")
    PLAYBOOK_UNAVAILABLE: Final = _e("E804", "playbook-unavailable", "A test names a playbook that cannot be used.")

    UNUSED_ROLE: Final = _w("W700", "unused-role", "A role that no transition, escalation or owner uses.")
    UNUSED_CALENDAR: Final = _w("W701", "unused-calendar", "A calendar that no state or target uses.")
    NO_TIME_LIMIT: Final = _w("W702", "no-time-limit", "A non-final state with no time limit.")
    REVIEW_NOT_REQUIRED: Final = _w(
        "W703", "review-not-required", "A transition into reviewed that does not ask the review questions."
    )
    NATIONAL_HOLIDAYS_ONLY: Final = _w(
        "W704", "national-holidays-only", "A calendar's holidays name a country whose regions keep more days."
    )
    COMMON_WORD_PHRASE: Final = _w(
        "W705", "common-word-phrase", "A keyword or never-say phrase that is a word nearly every post or reply has."
    )
    NO_WARNING_BEFORE_BREACH: Final = _w(
        "W707", "no-warning-before-breach", "A clock whose escalation steps all come at or after its breach."
    )
    REASON_NOBODY_MAY_GIVE: Final = _w(
        "W715", "reason-nobody-may-give", "A do-not-engage reason that no role allowed to take its actions may give."
    )
    DAYS_IN_OPEN_HOURS: Final = _w(
        "W706", "days-in-open-hours", "A limit in days or weeks on a calendar with opening hours: it counts open hours."
    )
    TARGET_STRANDED: Final = _w(
        "W710", "target-stranded", "A state on a target's way from which none of its until states can be reached."
    )
    EVENT_NEVER_HAPPENS: Final = _w(
        "W711", "event-never-happens", "A notify_on rule whose event cannot happen as its filters say."
    )
    UNEVEN_BUSINESS_DAYS: Final = _w(
        "W720", "uneven-business-days", "Business days on a calendar whose open days are not all as long."
    )
    LIMIT_OUTLASTS_TARGET: Final = _w(
        "W721",
        "limit-outlasts-target",
        "A state's limit longer than a target it runs under, with no warning on the target before its breach.",
    )
    UNCAPPED_OFFER: Final = _w(
        "W725", "uncapped-offer", "An offer with amount caps, and a role that may offer it with no cap."
    )
    OFFER_ROLE_CANNOT_ACT: Final = _w(
        "W726", "offer-role-cannot-act", "A role that may make an offer but takes no action that carries one."
    )
    CONTACT_NOT_REQUIRED: Final = _w(
        "W727", "contact-not-required", "A contact section, and no action that requires a contact."
    )
    TEMPLATES_REQUIRED_WITHOUT_REPLY: Final = _w(
        "W730", "templates-required-without-reply", "responses_required on a transition that posts no public reply."
    )
    PAUSE_NEVER_APPLIES: Final = _w(
        "W740", "pause-never-applies", "A target paused in a state it never runs through, so the pause never applies."
    )
    SURGE_NEVER_RAISES: Final = _w(
        "W750", "surge-never-raises", "A surge rule that raises to the lowest level, so it never raises anything."
    )
    RATE_NOT_ABOVE_BASELINE: Final = _w(
        "W751", "rate-not-above-baseline", "A surge rate of 1x or less: no rise above the earlier rate."
    )
    BASELINE_SHORTER_THAN_WINDOW: Final = _w(
        "W752", "baseline-shorter-than-window", "A surge baseline (over) shorter than its window (within)."
    )

    NOTIFIED_ROLE_UNHELD: Final = _e(
        "E900", "notified-role-unheld", "A role the playbook notifies that nobody in the roster holds or hears for."
    )
    NEEDED_ROLE_UNHELD: Final = _e(
        "E901", "needed-role-unheld", "A role an action needs that nobody in the roster holds."
    )
    SURGE_PLAYBOOK_MISSING: Final = _e(
        "E902", "surge-playbook-missing", "A surge rule opens a crisis under a playbook that is not in the set."
    )
    SECRET_UNSET: Final = _w(
        "W900", "secret-unset", "A roster channel's secret variable is not set in the environment."
    )
    SMTP_HOST_UNRESOLVED: Final = _w("W901", "smtp-host-unresolved", "The roster's SMTP server name does not resolve.")


def all_rules() -> tuple[Rule, ...]:
    """Every rule, in code order."""
    found = [value for value in vars(rules).values() if isinstance(value, Rule)]
    return tuple(sorted(found, key=lambda rule: rule.code))


def dotted(path: Path) -> str:
    """A path as people read it: ``transitions[2].by[0]``, ``states.detected.limit``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the top level"
