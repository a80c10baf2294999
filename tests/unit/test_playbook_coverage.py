"""`calmly test --coverage` counts what a small playbook's tests exercised, and places what they did not."""

from __future__ import annotations

from pathlib import Path

from engine.authoring.coverage import KINDS, Coverage, Item, coverage_of, shown
from engine.authoring.testsuite import run_test_file

#: Every kind of item in a few lines, each on a line of its own (the line numbers below count from "playbook").
SMALL = """\
playbook: small
version: 1
owner: lead
applies_to: {channels: [twitter]}
roles:
  lead: {description: Handles every incident.}
  boss: {description: Hears of every breach.}
severity: {levels: [normal], default: normal}
house_rules:
  never_say: [calm down, not our fault]
  do_not_engage_reasons: [spam, troll]
states:
  detected: {limit: {default: 1h}}
  assessed: {limit: {default: 4h}}
  acknowledged: {limit: {default: 1d}}
  resolution_offered: {limit: {default: 1d}}
  resolved: {limit: {default: 1w}}
  reviewed: {final: true}
  not_engaged: {final: true}
transitions:
  - {trigger: assess, from: detected, to: assessed, by: [lead]}
  - {trigger: acknowledge, from: assessed, to: acknowledged, by: [lead], requires: [public_reply]}
  - {trigger: offer_resolution, from: acknowledged, to: resolution_offered, by: [lead]}
  - {trigger: resolve, from: resolution_offered, to: resolved, by: [lead]}
  - {trigger: review, from: resolved, to: reviewed, by: [lead], requires: [review]}
  - {trigger: do_not_engage, from: [detected, assessed], to: not_engaged, by: [lead], requires: [reason]}
escalation:
  - {after: 50%, notify: [lead], description: Half the time is gone.}
  - {after: 100%, notify: [boss], clocks: [limit]}
review:
  questions:
    - {id: avoidable, ask: Was it avoidable?, answer: yes_no}
"""

MENTION = "{at: 0m, mention: {channel: twitter, text: my order is late, author: {handle: ann}}}"
ASSESS = "{at: 10m, act: assess, by: lee}"
#: A reply that breaks the first house rule: refused, so the incident stays in assessed.
RUDE_REPLY = "{at: 15m, act: acknowledge, by: lee, with: {public_reply: {channel: twitter, text: Please calm down}}}"
SPAM = "{at: 20m, act: do_not_engage, by: lee, with: {reason: spam}}"


def _test(name: str, *events: str, until: str = "1h") -> str:
    lines = "".join(f"          - {event}\n" for event in events)
    return (
        f"  - name: {name}\n"
        "    timeline:\n"
        "      start: 2026-11-23T09:00:00Z\n"
        "      people: {lee: [lead], mo: [boss]}\n"
        "      events:\n"
        f"{lines}"
        f"      until: {until}\n"
        "    expect: [{at: 0m, incidents: 1}]\n"
    )


def _coverage(folder: Path, *tests: str) -> Coverage:
    (folder / "small.yaml").write_text(SMALL, encoding="utf-8")
    path = folder / "small.test.yaml"
    path.write_text("playbook: small.yaml\ntests:\n" + "".join(tests), encoding="utf-8")
    report = run_test_file(path)
    assert report.passed, report
    return coverage_of([report])


def _items(coverage: Coverage, kind: str) -> list[Item]:
    (playbook,) = coverage.playbooks
    return [item for item in playbook.items if item.kind == kind]


def _uncovered(coverage: Coverage, kind: str) -> list[tuple[str, int, int]]:
    return [(item.name, item.line, item.column) for item in _items(coverage, kind) if not item.covered]


def test_a_test_that_takes_two_transitions_reports_every_other_pair_at_its_from(tmp_path: Path) -> None:
    coverage = _coverage(tmp_path, _test("assessed, then not engaged as spam", MENTION, ASSESS, SPAM))

    taken = [item.name for item in _items(coverage, "transition") if item.covered]
    assert taken == ["assess from detected (to assessed)", "do_not_engage from assessed (to not_engaged)"]
    assert _uncovered(coverage, "transition") == [
        ("acknowledge from assessed (to acknowledged)", 22, 34),
        ("offer_resolution from acknowledged (to resolution_offered)", 23, 39),
        ("resolve from resolution_offered (to resolved)", 24, 30),
        ("review from resolved (to reviewed)", 25, 29),
        # One action from two states is two pairs, each placed at its own state in the list.
        ("do_not_engage from detected (to not_engaged)", 26, 37),
    ]


def test_an_escalation_step_is_covered_once_it_notifies_and_names_the_clocks_it_did(tmp_path: Path) -> None:
    quick = _coverage(tmp_path, _test("assessed in ten minutes", MENTION, ASSESS))
    assert _uncovered(quick, "escalation_step") == [
        ("step 1 (at 50%: lead)", 28, 5),
        ("step 2 (at 100%: boss)", 29, 5),
    ]

    left_alone = _coverage(tmp_path, _test("nobody assesses for an hour", MENTION))
    first, second = _items(left_alone, "escalation_step")
    assert (first.covered, first.hits) == (True, 1)
    assert dict(first.details) == {
        "clocks": ("limit",),  # a step that names no clocks applies to every one this playbook has
        "notified_on": ("limit:detected",),
        "description": "Half the time is gone.",
    }
    assert second.covered
    assert dict(second.details)["clocks"] == ("limit",)


def test_a_never_say_phrase_is_covered_by_a_reply_refused_for_saying_it(tmp_path: Path) -> None:
    coverage = _coverage(tmp_path, _test("a rude reply is refused", MENTION, ASSESS, RUDE_REPLY))

    phrases = [(item.name, item.hits) for item in _items(coverage, "never_say")]
    assert phrases == [("calm down", 1), ("not our fault", 0)]
    assert _uncovered(coverage, "never_say") == [("not our fault", 10, 26)]


def test_a_do_not_engage_reason_is_covered_when_an_action_taken_gives_it(tmp_path: Path) -> None:
    refused = "{at: 15m, act: do_not_engage, by: mo, with: {reason: troll}}"  # refused: it is not for the boss
    coverage = _coverage(tmp_path, _test("not engaged as spam", MENTION, ASSESS, refused, SPAM))

    assert _uncovered(coverage, "do_not_engage_reason") == [("troll", 11, 33)]


def test_the_figures_count_every_item_once_however_many_tests_exercise_it(tmp_path: Path) -> None:
    coverage = _coverage(
        tmp_path,
        _test("not engaged as spam", MENTION, ASSESS, SPAM),
        _test("not engaged as spam, again", MENTION, ASSESS, SPAM),
    )

    (playbook,) = coverage.playbooks
    # 7 transitions (2 taken), 2 escalation steps (none), 2 phrases (none), 2 reasons (spam): 3 of 13.
    assert (playbook.covered, playbook.total) == (3, 13)
    assert {kind.name: playbook.of_kind(kind.name) for kind in KINDS} == {
        "transition": (2, 7),
        "escalation_step": (0, 2),
        "guard": (0, 0),
        "event_rule": (0, 0),
        "surge_rule": (0, 0),
        "never_say": (0, 2),
        "do_not_engage_reason": (1, 2),
        "reason_by_role": (0, 0),
    }
    assert _items(coverage, "transition")[0].hits == 2
    assert round(coverage.percent, 2) == 23.08
    assert coverage.meets(23)
    assert not coverage.meets(23.1)  # compared exactly: 23.08% is short of 23.1%, though both read as 23%


def test_items_are_listed_in_the_order_the_playbook_writes_them(tmp_path: Path) -> None:
    coverage = _coverage(tmp_path, _test("assessed", MENTION, ASSESS))

    (playbook,) = coverage.playbooks
    places = [(item.line, item.column) for item in playbook.items]
    assert places == sorted(places)
    assert playbook.file == (tmp_path / "small.yaml").as_posix()


def test_two_test_files_of_one_playbook_make_one_coverage_of_what_both_did(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    first, second = tmp_path / "a.test.yaml", tmp_path / "tests" / "b.test.yaml"
    first.write_text("playbook: small.yaml\ntests:\n" + _test("assessed", MENTION, ASSESS), encoding="utf-8")
    second.write_text("playbook: ../small.yaml\ntests:\n" + _test("spam", MENTION, ASSESS, SPAM), encoding="utf-8")

    coverage = coverage_of([run_test_file(first), run_test_file(second)])

    (playbook,) = coverage.playbooks
    assert playbook.of_kind("transition") == (2, 7)
    assert _items(coverage, "transition")[0].hits == 2  # assessed in both files


def test_a_playbook_that_cannot_be_loaded_has_no_coverage_and_nothing_to_cover_counts_as_covered(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.test.yaml"
    broken.write_text("playbook: missing.yaml\ntests: []\n", encoding="utf-8")
    nothing = coverage_of([run_test_file(broken)])

    assert nothing.playbooks == ()
    assert (nothing.covered, nothing.total, nothing.percent) == (0, 0, 100.0)
    assert nothing.meets(100)


def test_a_share_is_shown_rounded_down_so_it_never_reads_as_more_than_it_is() -> None:
    assert shown(99.6) == "99%"
    assert shown(79.96, 1) == "79.9%"  # short of 80%, and never shown as 80.0%
    assert shown(100.0) == "100%"
    assert shown(47.368, 2) == "47.36%"


def test_a_notify_on_rule_is_covered_when_its_event_happens_and_not_counted_as_an_escalation_step(
    tmp_path: Path,
) -> None:
    rules = (
        "notify_on:\n  - {event: opened, notify: [boss]}\n  - {event: entered, states: [not_engaged], notify: [boss]}\n"
    )
    (tmp_path / "small.yaml").write_text(SMALL + rules, encoding="utf-8")
    path = tmp_path / "small.test.yaml"
    path.write_text("playbook: small.yaml\ntests:\n" + _test("assessed at once", MENTION, ASSESS), encoding="utf-8")
    report = run_test_file(path)
    assert report.passed, report
    coverage = coverage_of([report])

    opened, entered = _items(coverage, "event_rule")
    assert (opened.name, opened.covered, opened.hits) == ("1 (opened)", True, 1)
    assert (entered.name, entered.covered, entered.line) == ("2 (entered: states not_engaged)", False, 35)
    assert [item.hits for item in _items(coverage, "escalation_step")] == [0, 0]


#: Two ways to close an incident without engaging, told apart by its severity, and a reason only the boss gives.
GUARDED = (
    SMALL.replace("levels: [normal], default: normal", "levels: [normal, high], default: normal")
    .replace("to: assessed, by: [lead]}", "to: assessed, by: [lead], requires: [severity]}")
    .replace("do_not_engage_reasons: [spam, troll]", "do_not_engage_reasons: [spam, {reason: troll, by: [boss]}]")
    .replace(
        "  - {trigger: do_not_engage, from: [detected, assessed], to: not_engaged, by: [lead], requires: [reason]}\n",
        "  - {trigger: do_not_engage, from: [detected, assessed], to: not_engaged, by: [lead, boss],\n"
        "     requires: [reason], when: {severities: [normal]}}\n"
        "  - {trigger: do_not_engage, from: [detected, assessed], to: not_engaged, by: [boss], requires: [reason],\n"
        "     when: {severities: [high]}}\n",
    )
)


def _guarded(folder: Path, *events: str) -> Coverage:
    (folder / "small.yaml").write_text(GUARDED, encoding="utf-8")
    path = folder / "small.test.yaml"
    path.write_text("playbook: small.yaml\ntests:\n" + _test("guarded", *events), encoding="utf-8")
    report = run_test_file(path)
    assert report.passed, report
    return coverage_of([report])


def test_a_guard_is_covered_only_once_tests_saw_it_both_let_an_incident_through_and_keep_one_out(
    tmp_path: Path,
) -> None:
    only_normal = _guarded(tmp_path, MENTION, SPAM)
    normal, high = _items(only_normal, "guard")
    assert normal.name == "do_not_engage from detected, assessed (to not_engaged) when severity normal"
    assert (normal.covered, normal.missing) == (False, "no test saw it keep one out")
    assert dict(normal.details) == {"let_through": "1", "kept_out": "0"}
    # The normal way taken is the high way's guard not holding: guards from one state cannot overlap.
    assert (high.covered, high.missing, high.line) == (False, "no test saw it let an incident through", 29)

    both = _guarded(
        tmp_path,
        MENTION,
        "{at: 1m, mention: {channel: twitter, text: my order is late, author: {handle: bo}}}",
        "{at: 2m, act: assess, by: lee, incident: 2, with: {severity: high}}",
        SPAM,
        "{at: 25m, act: do_not_engage, by: mo, incident: 2, with: {reason: troll}}",
    )
    assert [(item.covered, item.hits) for item in _items(both, "guard")] == [(True, 2), (True, 2)]


def test_a_guard_that_refuses_an_action_outright_has_kept_an_incident_out(tmp_path: Path) -> None:
    # Only the normal way is left: a high incident finds no way to close, and the refusal says why.
    one_way = GUARDED.replace(
        "  - {trigger: do_not_engage, from: [detected, assessed], to: not_engaged, by: [boss], requires: [reason],\n"
        "     when: {severities: [high]}}\n",
        "",
    )
    (tmp_path / "small.yaml").write_text(one_way, encoding="utf-8")
    path = tmp_path / "small.test.yaml"
    events = (
        MENTION,
        "{at: 1m, mention: {channel: twitter, text: my order is late, author: {handle: bo}}}",
        "{at: 2m, act: assess, by: lee, incident: 2, with: {severity: high}}",
        "{at: 3m, act: do_not_engage, by: lee, incident: 2, with: {reason: spam}}",
        SPAM,
    )
    path.write_text("playbook: small.yaml\ntests:\n" + _test("one way", *events), encoding="utf-8")
    report = run_test_file(path)
    assert report.passed, report

    (guard,) = _items(coverage_of([report]), "guard")
    assert (guard.covered, dict(guard.details)) == (True, {"let_through": "1", "kept_out": "1"})


def test_a_reason_kept_for_some_roles_is_covered_when_another_role_is_refused_it(tmp_path: Path) -> None:
    given_by_its_role = _guarded(tmp_path, MENTION, "{at: 5m, act: do_not_engage, by: mo, with: {reason: troll}}")
    (troll,) = _items(given_by_its_role, "reason_by_role")
    assert (troll.name, troll.covered, troll.missing) == (
        "troll (for boss)",
        False,
        "no test saw another role refused it",
    )

    refused = _guarded(tmp_path, MENTION, "{at: 5m, act: do_not_engage, by: lee, with: {reason: troll}}")
    assert [(item.covered, item.hits) for item in _items(refused, "reason_by_role")] == [(True, 1)]
