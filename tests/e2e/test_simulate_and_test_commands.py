"""`calmly simulate` and `calmly test` as playbook authors run them before they merge a change."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
TESTS = ROOT / "examples" / "playbook-tests"
TIMELINES = ROOT / "examples" / "timelines"


def calmly(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CALMLY), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _playbook_of(timeline: Path) -> str:
    name = "customer-complaint" if timeline.stem in ("broken-order", "waiting-on-the-customer") else timeline.stem
    return f"playbooks/{name}.yaml"


@pytest.mark.parametrize("timeline", sorted(TIMELINES.glob("*.yaml")), ids=lambda path: path.stem)
def test_simulate_tells_a_complete_story_for_every_example_timeline(timeline: Path) -> None:
    result = calmly("simulate", _playbook_of(timeline), str(timeline))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "opened" in lines[0]
    assert any(" transition " in line for line in lines)
    assert "Traceback" not in result.stdout + result.stderr


def test_simulate_story_shows_warnings_breaches_refusals_and_closing() -> None:
    result = calmly("simulate", "playbooks/customer-complaint.yaml", "examples/timelines/broken-order.yaml")
    text = result.stdout
    assert "WARNING    [inc-1] limit:detected at 75%: notify community_manager" in text
    assert "BREACH     [inc-1] limit:detected at 100%: notify social_lead" in text
    assert "REFUSED    [inc-1] acknowledge by alice refused: 'acknowledge' can be taken from assessed" in text
    assert "first_response met (20m late)" in text
    assert text.rstrip().endswith("review: resolved -> reviewed by bob")


def test_simulate_json_gives_the_same_story_for_machines() -> None:
    result = calmly(
        "simulate", "playbooks/customer-complaint.yaml", "examples/timelines/broken-order.yaml", "--format", "json"
    )
    report = json.loads(result.stdout)
    kinds = [line["kind"] for line in report["lines"]]
    assert kinds[0] == "opened"
    assert {"warning", "breach", "refused", "transition", "target_met"} <= set(kinds)
    breach = next(line for line in report["lines"] if line["kind"] == "breach" and "roles" in line["details"])
    assert breach["offset_seconds"] == 4 * 3600
    assert breach["details"]["roles"] == ["social_lead"]


def test_shipped_playbook_tests_pass() -> None:
    result = calmly("test", str(TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("all passed")
    covered = {line.strip() for line in result.stdout.splitlines() if line.endswith(".test.yaml")}
    shipped = {path.stem for path in (ROOT / "playbooks").glob("*.yaml")}
    assert {Path(name).name.removesuffix(".test.yaml") for name in covered} == shipped


def test_a_broken_expectation_fails_naming_its_file_and_line(tmp_path: Path) -> None:
    original = (TESTS / "customer-complaint.test.yaml").read_text(encoding="utf-8")
    broken = original.replace("        state: reviewed\n", "        state: resolved\n", 1)
    assert broken != original
    broken = broken.replace("../../playbooks/", f"{ROOT.as_posix()}/playbooks/")
    broken = broken.replace("../timelines/", f"{TIMELINES.as_posix()}/")
    path = tmp_path / "broken.test.yaml"
    path.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index("        state: resolved") + 1
    result = calmly("test", str(path))
    assert result.returncode == 1
    assert (
        f"{path.as_posix()}:{line}:16: at +2d (2026-11-25 09:00Z), incident 1: expected state resolved, "
        "got reviewed" in result.stdout
    )
    assert "FAIL  a late assessment warns the community manager" in result.stdout
    assert "1 failed" in result.stdout


def test_test_json_reports_each_failure_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "one.test.yaml"
    path.write_text(
        f"playbook: {ROOT.as_posix()}/playbooks/customer-complaint.yaml\n"
        "tests:\n"
        "  - name: nobody is notified in the first minute\n"
        "    timeline:\n"
        "      start: 2026-11-23T09:00:00Z\n"
        "      events:\n"
        "        - {at: 0m, mention: {channel: twitter, text: hello, author: {handle: x}}}\n"
        "    expect:\n"
        "      - {at: 1m, state: assessed}\n",
        encoding="utf-8",
    )
    result = calmly("test", "--format", "json", str(path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    failure = report["files"][0]["tests"][0]["failures"][0]
    assert (failure["line"], failure["column"]) == (9, 25)
    assert "expected state assessed, got detected" in failure["message"]


def test_a_timeline_with_problems_is_reported_with_positions_and_nothing_runs(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "start: 2026-11-23T09:00:00Z\n"
        "people: {alice: [community_manager]}\n"
        "events:\n"
        "  - {at: 1h, act: assess, by: mallory}\n"
        "  - {at: 30m, mention: {channel: twiter, text: hi, author: {handle: x}}}\n"
        "  - {at: 2h, act: assess}\n"
        "  - {at: 1:30, act: assess, by: alice}\n",
        encoding="utf-8",
    )
    result = calmly("simulate", "playbooks/customer-complaint.yaml", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{path.as_posix()}:7:10: E204 " in result.stderr
    assert "Traceback" not in result.stderr
    fixed = path.read_text(encoding="utf-8").replace("1:30", "3h")
    path.write_text(fixed, encoding="utf-8")
    result = calmly("simulate", "playbooks/customer-complaint.yaml", str(path))
    assert result.returncode == 1
    errors = result.stderr
    assert f"{path.as_posix()}:4:31: E801 " in errors
    assert f"{path.as_posix()}:5:10: E802 " in errors
    assert f"{path.as_posix()}:5:34: E803 " in errors
    assert f"{path.as_posix()}:6:5: E800 " in errors


def test_a_test_naming_a_missing_playbook_says_so(tmp_path: Path) -> None:
    path = tmp_path / "lost.test.yaml"
    path.write_text(
        "playbook: nowhere.yaml\ntests:\n  - name: x\n    timeline: t.yaml\n    expect: [{at: 0m, state: detected}]\n",
        encoding="utf-8",
    )
    result = calmly("test", str(path))
    assert result.returncode == 1
    assert f"{path.as_posix()}:1:11: E804 cannot test" in result.stdout
    assert result.stdout.rstrip().endswith("0 tests, 0 expectations: none failed; 1 file could not be run")


def test_validate_leaves_playbook_tests_out_of_a_folder_walk(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text((ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8"))
    (tmp_path / "p.test.yaml").write_text("playbook: p.yaml\ntests: []\n", encoding="utf-8")
    result = calmly("validate", str(tmp_path))
    assert result.returncode == 0, result.stdout


def test_a_raise_that_breaches_a_clock_at_once_is_told_at_the_moment_of_the_raise(tmp_path: Path) -> None:
    path = tmp_path / "raise.yaml"
    path.write_text(
        "start: 2026-11-23T09:00:00Z\n"
        "people: {bob: [social_lead]}\n"
        "events:\n"
        "  - {at: 0m, mention: {channel: twitter, text: my parcel is late, author: {handle: '@c'}}}\n"
        "  - {at: 3h30m, act: assess, by: bob, with: {severity: critical}}\n"
        "until: 3h31m\n",
        encoding="utf-8",
    )
    result = calmly("simulate", "playbooks/customer-complaint.yaml", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)["lines"]
    breaches = [line for line in lines if line["kind"] == "breach" and line["details"].get("clock") == "first_response"]
    assert breaches, "the raise to critical (first response within 30m) breaches first_response at once"
    assert {line["offset_seconds"] for line in breaches} == {3 * 3600 + 30 * 60}
    # The steps overdue at once collapse into one notification at the current step, to everyone they stand for.
    notices = [
        line
        for line in lines
        if line["kind"] in ("breach", "escalation")
        and line["details"].get("roles")
        and line["details"].get("clock") == "first_response"
    ]
    assert len(notices) == 1
    assert notices[0]["offset_seconds"] == 3 * 3600 + 30 * 60
    # The 75% warning went out under the old level at 3h; the breach and the escalation are what is new.
    assert set(notices[0]["details"]["roles"]) == {"social_lead", "comms_director"}
    offsets = [line["offset_seconds"] for line in lines]
    assert offsets == sorted(offsets), "the story never runs backwards in time"


def test_test_without_paths_runs_the_tests_beside_the_playbooks(tmp_path: Path) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "customer-complaint.yaml").write_text(
        (ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "playbooks" / "complaint.test.yaml").write_text(
        "playbook: customer-complaint.yaml\n"
        "tests:\n"
        "  - name: a complaint opens in detected\n"
        "    timeline:\n"
        "      start: 2026-11-23T09:00:00Z\n"
        "      events: [{at: 0m, mention: {channel: twitter, text: broken again, author: {handle: x}}}]\n"
        "    expect: [{at: 1m, state: detected}]\n",
        encoding="utf-8",
    )
    run = [str(CALMLY), "test"]
    result = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 test, 1 expectation: all passed" in result.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(run, cwd=empty, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert "no playbook tests (*.test.yaml) found in this folder or any folder below it" in result.stderr


def test_test_without_paths_at_the_top_of_this_repository_runs_the_shipped_tests() -> None:
    result = calmly("test")
    assert result.returncode == 0, result.stdout + result.stderr
    shipped = sorted(TESTS.glob("*.test.yaml"))
    assert [line for line in result.stdout.splitlines() if line.endswith(".test.yaml")] == [
        path.relative_to(ROOT).as_posix() for path in shipped
    ]
    assert result.stdout.splitlines()[-1].endswith("all passed")


def test_test_without_paths_leaves_out_hidden_folders_and_virtual_environments(tmp_path: Path) -> None:
    broken = "playbook: missing.yaml\ntests: [{name: never run, timeline: {start: 2026-11-23T09:00:00Z, events: []}}]\n"
    for folder in (".git", ".venv/lib", "venv", "node_modules/some-package"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "x.test.yaml").write_text(broken, encoding="utf-8")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    run = [str(CALMLY), "test"]
    result = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert "no playbook tests (*.test.yaml) found" in result.stderr, result.stdout


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (
            "examples/playbook-tests/customer-complaint.test.yaml",
            "this is a playbook test, not a playbook; run it with `calmly test {path}`",
        ),
        (
            "examples/timelines/broken-order.yaml",
            "this is a timeline, not a playbook; play it against a playbook with `calmly simulate PLAYBOOK {path}`",
        ),
        ("examples/roster.yaml", "this is a roster, not a playbook; check it beside the playbooks"),
        ("examples/config.yaml", "this is a daemon configuration, not a playbook; check it with `calmly check"),
    ],
    ids=["playbook-test", "timeline", "roster", "config"],
)
def test_validate_given_another_kind_of_file_says_what_it_is_and_which_command_reads_it(path: str, says: str) -> None:
    result = calmly("validate", path)
    assert result.returncode == 1
    first, summary = result.stdout.splitlines()
    assert first.startswith(f"{path}:1:1: E111 {says.format(path=path)}")
    assert summary == "1 error, 0 warnings; 1 of 1 playbook failed"


def test_validate_walking_a_folder_reports_each_timeline_in_it_as_one_line() -> None:
    result = calmly("validate", "examples/timelines")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    timelines = sorted(TIMELINES.glob("*.yaml"))
    assert len(lines) == len(timelines) + 1
    assert all(" E111 this is a timeline, not a playbook" in line for line in lines[:-1])


def test_simulate_treats_one_author_one_channel_and_one_post_as_the_daemon_does(tmp_path: Path) -> None:
    timeline = tmp_path / "spellings.yaml"
    timeline.write_text(
        "start: 2026-11-23T09:00:00Z\n"
        "people: {alice: [community_manager]}\n"
        "events:\n"
        "  - at: 0m\n"
        "    mention: {channel: twitter, external_id: '1', text: My order arrived broken, author: {handle: '@zed'},\n"
        "              url: 'https://x.com/zed/status/1', source: brandwatch}\n"
        "  - at: 5m\n"
        "    mention: {channel: x, external_id: '2', text: Still broken, author: {handle: Zed}}\n"
        "  - at: 6m\n"
        "    mention: {channel: twitter, external_id: tw-1, text: My order arrived broken, author: {handle: '@zed'},\n"
        "              url: 'HTTP://X.com/zed/status/1/?utm_source=sprout', source: sprout}\n",
        encoding="utf-8",
    )

    result = calmly("simulate", "playbooks/customer-complaint.yaml", str(timeline), "--format", "json")

    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)["lines"]
    assert [line["incident"] for line in lines if line["kind"] == "opened"] == ["inc-1"]
    assert [line["text"] for line in lines if line["kind"] == "mention"] == ["mention twitter/2 joined"]
    (duplicate,) = [line for line in lines if line["kind"] == "duplicate"]
    assert "the same post as twitter/1" in duplicate["text"]


def _broken_order_test(tmp_path: Path, expect: str) -> Path:
    path = tmp_path / "detail.test.yaml"
    path.write_text(
        f"playbook: {ROOT.as_posix()}/playbooks/customer-complaint.yaml\n"
        "tests:\n"
        "  - name: the late assessment, in detail\n"
        f"    timeline: {TIMELINES.as_posix()}/broken-order.yaml\n"
        "    expect:\n" + expect,
        encoding="utf-8",
    )
    return path


def test_an_expectation_can_name_the_clock_and_kind_of_a_notification_count_them_and_give_a_refusals_reason(
    tmp_path: Path,
) -> None:
    path = _broken_order_test(
        tmp_path,
        "      - at: 3h30m\n"
        "        notified: [{role: community_manager, clock: 'limit:detected', kind: warning, late: false}]\n"
        "        notified_count: {community_manager: 2, social_lead: 0}\n"
        "        refused: [{action: acknowledge, reason: not_available}]\n",
    )

    result = calmly("test", str(path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  the late assessment, in detail" in result.stdout


def test_an_expectation_of_the_wrong_clock_count_or_reason_fails_saying_what_happened(tmp_path: Path) -> None:
    path = _broken_order_test(
        tmp_path,
        "      - at: 3h30m\n"
        "        notified: [{role: community_manager, kind: breach}]\n"
        "        notified_count: {community_manager: 1}\n"
        "        refused: [{action: acknowledge, reason: house_rule}]\n",
    )

    result = calmly("test", str(path))

    assert result.returncode == 1
    lines = result.stdout
    assert f"{path.as_posix()}:7:" in lines
    assert "expected community_manager (kind breach) to have been notified" in lines
    assert "community_manager 2 times, not 1" in lines
    assert "expected acknowledge (reason house_rule) to have been refused" in lines
    assert "refused: acknowledge (not_available)" in lines


def test_an_expectation_tells_a_target_met_late_from_one_met_on_time(tmp_path: Path) -> None:
    late = _broken_order_test(
        tmp_path, "      - {at: 4h40m, met: [first_response, {target: first_response, late: true}]}\n"
    )
    assert calmly("test", str(late)).returncode == 0

    on_time = _broken_order_test(tmp_path, "      - {at: 4h40m, met: [{target: first_response, late: false}]}\n")
    result = calmly("test", str(on_time))

    assert result.returncode == 1
    assert "expected first_response (late false) to have been met; met: first_response (late)" in result.stdout


def test_an_expectation_counts_the_mentions_an_incident_holds(tmp_path: Path) -> None:
    held = _broken_order_test(tmp_path, "      - {at: 3h30m, mentions: 1}\n")
    assert calmly("test", str(held)).returncode == 0

    result = calmly("test", str(_broken_order_test(tmp_path, "      - {at: 3h30m, mentions: 2}\n")))

    assert result.returncode == 1
    assert "expected mentions 2, got 1" in result.stdout


def test_simulate_tells_a_reply_in_a_merged_thread_joining_the_lead_incident(tmp_path: Path) -> None:
    timeline = tmp_path / "merged.yaml"
    timeline.write_text(
        "start: 2026-11-24T10:00:00Z\n"
        "people: {priya: [community_manager]}\n"
        "events:\n"
        "  - {at: 0m, mention: {channel: twitter, external_id: '1', thread_id: '1', text: The app is down,"
        " author: {handle: '@mo'}}}\n"
        "  - {at: 1m, mention: {channel: facebook, external_id: '2', thread_id: '2', text: Is the app down?,"
        " author: {handle: 'Jo'}}}\n"
        "  - {at: 2m, act: merge, by: priya, incident: 2, with: {merged_into: inc-1}}\n"
        "  - {at: 3h, mention: {channel: facebook, external_id: '3', thread_id: '2', text: any news?,"
        " author: {handle: 'Lee'}}}\n",
        encoding="utf-8",
    )

    result = calmly("simulate", "playbooks/service-outage.yaml", str(timeline), "--format", "json")

    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)["lines"]
    assert [line["incident"] for line in lines if line["kind"] == "opened"] == ["inc-1", "inc-2"]
    joined = [(line["incident"], line["text"]) for line in lines if line["kind"] == "mention"]
    assert joined == [("inc-1", "mention facebook/3 joined: it belongs to inc-2, which was merged into this incident")]


GUARDED = "tests/fixtures/incident/guards.good.yaml"
GUARDED_TIMELINE = (
    "start: 2026-11-23T09:00:00Z\n"
    "people: {ann: [agent], lee: [lead]}\n"
    "events:\n"
    "  - {at: 0m, mention: {channel: twitter, external_id: '1', text: my parcel is late, author: {handle: '@c'}}}\n"
    "  - {at: 1m, act: assess, by: lee, with: {severity: low}}\n"
    "  - {at: 2m, act: acknowledge, by: ann}\n"
    "  - {at: 3m, act: call_back, by: ann, with: {contact_route: phone}}\n"
    "  - {at: 4m, act: offer_resolution, by: ann, with: {offer: a coupon, contact_route: direct}}\n"
    "  - {at: 5m, mention: {channel: twitter, external_id: '2', text: order 881, author: {handle: '@c'},\n"
    "                       customer_id: c-881}}\n"
    "  - {at: 6m, act: call_back, by: ann, with: {contact_route: direct}}\n"
    "until: 10m\n"
)


def test_simulate_tells_a_guard_refusal_and_the_direct_route_refused_until_the_customer_is_known(
    tmp_path: Path,
) -> None:
    path = tmp_path / "guarded.yaml"
    path.write_text(GUARDED_TIMELINE, encoding="utf-8")

    result = calmly("simulate", GUARDED, str(path))

    assert result.returncode == 0, result.stderr
    assert (
        "REFUSED    [inc-1] call_back by ann refused: 'call_back' needs a known customer (a mention that carries "
        "their customer_id); this incident's customer is not known"
    ) in result.stdout
    assert (
        "REFUSED    [inc-1] offer_resolution by ann refused: contact_route direct contacts the customer"
        in result.stdout
    )
    assert "call_back: acknowledged -> resolution_offered by ann" in result.stdout


def test_a_playbook_test_pins_a_guard_refusal_and_the_direct_route_by_their_reasons(tmp_path: Path) -> None:
    (tmp_path / "guarded.yaml").write_text(GUARDED_TIMELINE, encoding="utf-8")
    test = tmp_path / "guards.test.yaml"
    test.write_text(
        f"playbook: {ROOT / GUARDED}\n"
        "tests:\n"
        "  - name: a call back waits for a known customer\n"
        "    timeline: guarded.yaml\n"
        "    expect:\n"
        "      - at: 4m\n"
        "        state: acknowledged\n"
        "        refused: [{action: call_back, reason: guard}, {action: offer_resolution, reason: customer_unknown}]\n"
        "      - {at: 6m, state: resolution_offered}\n"
        "  - name: the wrong reason fails\n"
        "    timeline: guarded.yaml\n"
        "    expect:\n"
        "      - {at: 4m, refused: [{action: call_back, reason: role_not_allowed}]}\n",
        encoding="utf-8",
    )

    result = calmly("test", str(test))

    assert result.returncode == 1, result.stdout
    assert "PASS  a call back waits for a known customer" in result.stdout
    assert "FAIL  the wrong reason fails" in result.stdout
    assert "refused: call_back (guard), offer_resolution (customer_unknown)" in result.stdout


def test_an_expectation_tells_a_promise_kept_in_time_from_one_still_open_or_late(tmp_path: Path) -> None:
    kept = _broken_order_test(
        tmp_path,
        "      - {at: 4h39m, promises: []}\n"
        "      - {at: 1d1h, promises: [replacement, {promise: replacement-1, kept: true, late: false}]}\n",
    )
    assert calmly("test", str(kept)).returncode == 0, calmly("test", str(kept)).stdout

    wrong = _broken_order_test(
        tmp_path,
        "      - {at: 4h40m, promises: []}\n      - {at: 1d, promises: [{kind: replacement, kept: true}, refund]}\n",
    )
    result = calmly("test", str(wrong))

    assert result.returncode == 1
    assert "expected no promise made by then; promises: replacement-1 (open, in time)" in result.stdout
    assert "expected replacement (kept true), refund to have been promised; promises: replacement-1 (open" in (
        result.stdout
    )


def test_simulate_tells_a_promise_made_and_kept() -> None:
    result = calmly("simulate", "playbooks/customer-complaint.yaml", str(TIMELINES / "broken-order.yaml"))

    assert result.returncode == 0, result.stderr
    assert "promised replacement-1: replacement, due 2026-11-26 13:40Z (in 3d) by carol" in result.stdout
    assert "kept replacement-1 (replacement, on time): The courier delivered it" in result.stdout


def test_simulate_tells_each_step_of_an_approval_and_refuses_a_changed_word() -> None:
    result = calmly("simulate", "playbooks/safety-and-legal.yaml", "examples/timelines/safety-and-legal.yaml")
    text = result.stdout

    assert result.returncode == 0, result.stderr
    assert (
        "REFUSED    [inc-1] acknowledge by priya refused: this reply needs approval by legal_counsel or "
        "comms_director; submit it as a draft first" in text
    )
    assert "draft      [inc-1] draft reply for acknowledge submitted for approval by priya" in text
    assert "returned   [inc-1] draft reply for acknowledge returned (A recall notice" in text
    assert "approved   [inc-1] draft reply for acknowledge approved (sha256:" in text
    assert "refused: the reply differs from the approved text at word 16" in text
    assert "acknowledge: assessed -> acknowledged (the reply dana approved, word for word) by priya" in text


def _approval_test(tmp_path: Path, expect: str, events: str = "") -> Path:
    path = tmp_path / "approval.test.yaml"
    path.write_text(
        f"playbook: {ROOT.as_posix()}/playbooks/safety-and-legal.yaml\n"
        "tests:\n"
        "  - name: a draft approved by legal\n"
        "    timeline:\n"
        "      start: 2026-11-26T12:30:00Z\n"
        "      people: {priya: [community_manager], grace: [legal_counsel], lena: [social_lead]}\n"
        "      events:\n"
        "        - {at: 0m, mention: {channel: twitter, text: I was injured, author: {handle: '@ro'}}}\n"
        "        - {at: 1m, act: assess, by: lena, with: {severity: high}}\n"
        "        - {at: 2m, act: acknowledge, draft: submit, by: priya,\n"
        "           with: {public_reply: {channel: twitter, text: 'Hi @ro, please send us a direct message.'}}}\n"
        f"{events}"
        "    expect:\n"
        f"{expect}",
        encoding="utf-8",
    )
    return path


def test_a_test_can_expect_who_approved_a_reply_and_where_the_draft_stands(tmp_path: Path) -> None:
    path = _approval_test(
        tmp_path,
        "      - {at: 3m, draft: pending, approved: []}\n"
        "      - {at: 5m, draft: approved, approved: [acknowledge, {action: acknowledge, by: grace}]}\n",
        "        - {at: 4m, act: acknowledge, draft: approve, by: grace}\n",
    )

    result = calmly("test", str(path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  a draft approved by legal" in result.stdout


def test_an_expectation_of_the_wrong_approver_or_draft_fails_saying_what_happened(tmp_path: Path) -> None:
    path = _approval_test(
        tmp_path,
        "      - at: 5m\n        draft: returned\n        approved: [{action: acknowledge, by: dana}]\n",
        "        - {at: 4m, act: acknowledge, draft: approve, by: grace}\n",
    )

    result = calmly("test", str(path))

    assert result.returncode == 1
    assert (
        f"{path.as_posix()}:15:16: at +5m (2026-11-26 12:35Z), incident 1: expected the draft reply returned, got "
        "approved" in result.stdout
    )
    assert (
        f"{path.as_posix()}:16:19: at +5m (2026-11-26 12:35Z), incident 1: expected acknowledge (by dana) to have been "
        "approved; approved: acknowledge (by grace)" in result.stdout
    )


def test_a_draft_step_in_a_timeline_must_be_one_the_format_knows(tmp_path: Path) -> None:
    path = _approval_test(
        tmp_path,
        "      - {at: 5m, draft: approved}\n",
        "        - {at: 4m, act: acknowledge, draft: agree, by: grace}\n",
    )

    result = calmly("test", str(path))

    assert result.returncode == 1
    assert (
        f"{path.as_posix()}:12:45: E203 tests[0].timeline.events[3].draft is 'agree', which is not allowed (allowed: "
        "submit, approve, return)" in result.stdout
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_a_test_can_expect_a_reply_refused_for_not_being_one_of_the_templates(tmp_path: Path) -> None:
    path = tmp_path / "required.test.yaml"
    path.write_text(
        f"playbook: {ROOT.as_posix()}/tests/fixtures/incident/required-replies.good.yaml\n"
        "tests:\n"
        "  - name: only the templates go out\n"
        "    timeline:\n"
        "      start: 2026-11-26T12:30:00Z\n"
        "      people: {ann: [agent, lead]}\n"
        "      events:\n"
        "        - {at: 0m, mention: {channel: twitter, text: Late again, author: {handle: '@kim'}}}\n"
        "        - {at: 1m, act: assess, by: ann}\n"
        "        - {at: 2m, act: acknowledge, by: ann, with: {public_reply: {channel: twitter, text: 'On it!'}}}\n"
        "        - {at: 3m, act: acknowledge, by: ann,\n"
        "           with: {public_reply: {channel: twitter, text: \"Hi @kim, we're sorry. Please send us a direct "
        'message."}}}\n'
        "    expect:\n"
        "      - {at: 2m, state: assessed, refused: [{action: acknowledge, reason: not_a_template}]}\n"
        "      - {at: 3m, state: acknowledged}\n",
        encoding="utf-8",
    )

    result = calmly("test", str(path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  only the templates go out" in result.stdout


SURGES = "tests/fixtures/playbooks/surges"


def test_simulate_tells_a_burst_grouped_surging_and_opening_a_crisis_under_the_playbook_run_beside_it(
    tmp_path: Path,
) -> None:
    timeline = tmp_path / "burst.yaml"
    timeline.write_text(
        "start: 2026-11-25T12:00:00Z\n"
        "events:\n"
        '  - {at: 0m, burst: {count: 20, over: 3m, mention: {channel: twitter, text: "I can\'t log in",'
        ' author: {handle: "@u{n}"}}}}\n'
        "until: 5m\n",
        encoding="utf-8",
    )
    result = calmly("simulate", f"{SURGES}/login-outage.yaml", str(timeline), "--with", f"{SURGES}/brand-crisis.yaml")

    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "surge      [inc-1] surge spike: 5 mentions within 10m: raise to critical, notify director" in text
    assert "severity   [inc-1] severity low -> critical (surge spike)" in text
    assert "EVENT      [inc-1] surge spike: notify director at once" in text
    assert "opened     [inc-2] opened under brand-crisis v1 with severity critical" in text
    assert "link       [inc-2] opened for a surge of inc-1 (login-outage)" in text
    assert text.count("opened under") == 2  # twenty mentions, one group's incident and one crisis


def test_a_playbook_test_runs_its_crisis_playbook_beside_it_and_pins_the_surges_and_links() -> None:
    result = calmly("test", "tests/fixtures/playbook-tests/login-outage.tests.yaml")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 test, 4 expectations: all passed" in result.stdout


def test_a_test_whose_playbook_beside_it_is_missing_says_so_at_its_line(tmp_path: Path) -> None:
    test = tmp_path / "crisis.test.yaml"
    test.write_text(
        (ROOT / "tests" / "fixtures" / "playbook-tests" / "login-outage.tests.yaml")
        .read_text(encoding="utf-8")
        .replace("playbook: ../playbooks/surges/login-outage.yaml", f"playbook: {ROOT / SURGES / 'login-outage.yaml'}")
        .replace("playbooks: [../playbooks/surges/brand-crisis.yaml]", "playbooks: [brand-crises.yaml]"),
        encoding="utf-8",
    )
    result = calmly("test", str(test))

    assert result.returncode == 1
    assert f"{test.as_posix()}:4:13: E804 cannot run {tmp_path.as_posix()}/brand-crises.yaml" in result.stdout
    assert "there is no such file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_an_event_listed_before_a_burst_above_it_ends_is_an_ordering_error(tmp_path: Path) -> None:
    timeline = tmp_path / "overlap.yaml"
    timeline.write_text(
        "start: 2026-11-25T12:00:00Z\n"
        "events:\n"
        "  - {at: 0m, burst: {count: 10, over: 10m, mention: {channel: twitter, text: outage,"
        ' author: {handle: "@u{n}"}}}}\n'
        '  - {at: 5m, mention: {channel: twitter, text: outage, author: {handle: "@late"}}}\n',
        encoding="utf-8",
    )
    result = calmly("simulate", f"{SURGES}/login-outage.yaml", str(timeline))

    assert result.returncode == 1
    assert f"{timeline.as_posix()}:4:10: E802 events[1] happens before the burst above it ends" in result.stderr
    assert "(its last mention comes 9m after the start)" in result.stderr
