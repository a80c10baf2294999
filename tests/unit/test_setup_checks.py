"""The set-up checks read the playbooks, the roster and the environment together; no network, no files written."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from engine.files import load_file
from engine.playbook import LoadResult, Problem
from engine.service import Person, Roster, Smtp
from engine.service._preflight import RosterFile, check, failed, roster_file, system_resolver

ROOT = Path(__file__).resolve().parents[2]
COMPLAINT = load_file(ROOT / "playbooks" / "customer-complaint.yaml")
EVERYONE = {
    "alice": Person("alice", frozenset({"community_manager"})),
    "bob": Person("bob", frozenset({"social_lead"})),
    "carol": Person("carol", frozenset({"customer_care"})),
    "dana": Person("dana", frozenset({"comms_director"})),
}


def resolves(host: str) -> str | None:
    return None


def says_no(host: str) -> str | None:
    return "no such host is known to DNS; check the spelling"


def findings(
    roster: Roster, playbooks: list[LoadResult] | None = None, environment: dict[str, str] | None = None
) -> list[Problem]:
    return check(playbooks or [COMPLAINT], RosterFile(roster), environment or {}, resolves)


def test_the_shipped_playbooks_with_the_example_roster_have_no_findings() -> None:
    read = roster_file(ROOT / "examples" / "roster.yaml")
    assert isinstance(read, RosterFile)
    shipped = [load_file(path) for path in sorted((ROOT / "playbooks").glob("*.yaml"))]
    assert check(shipped, read, {}, says_no) == []


def test_a_role_an_action_needs_that_nobody_holds_is_an_error_at_its_place_in_the_playbook() -> None:
    people = {key: person for key, person in EVERYONE.items() if key != "carol"}
    found = findings(Roster(people, "roster.yaml"))
    (problem,) = [finding for finding in found if finding.code == "E901"]
    assert problem.file.endswith("playbooks/customer-complaint.yaml")
    assert problem.path[:1] == ("transitions",)
    assert "'customer_care'" in problem.message
    assert "nobody in the roster roster.yaml holds it" in problem.message
    assert failed(found, strict=False)


def test_a_role_notified_by_an_escalation_with_nobody_and_no_channel_is_an_error() -> None:
    people = {key: person for key, person in EVERYONE.items() if key != "alice"}
    found = findings(Roster(people, "roster.yaml"))
    notified = [finding for finding in found if finding.code == "E900"]
    assert notified
    assert notified[0].path[0] == "escalation"
    assert "'community_manager'" in notified[0].message
    assert "reach only the daemon's log" in notified[0].message


def test_a_notified_role_with_a_slack_channel_of_its_own_needs_nobody_in_it() -> None:
    people = {key: person for key, person in EVERYONE.items() if key != "alice"}
    channels = {"community_manager": ({"channel": "slack", "url_env": "SLACK_URL"},)}
    found = findings(Roster(people, "roster.yaml", channels), environment={"SLACK_URL": "set"})
    assert "E900" not in {finding.code for finding in found}


def test_an_unset_secret_variable_is_a_warning_naming_the_variable() -> None:
    channels = {"social_lead": ({"channel": "webhook", "url": "https://x.test/h", "secret_env": "HOOK_SECRET"},)}
    found = findings(Roster(EVERYONE, "roster.yaml", channels))
    assert [(finding.code, finding.path) for finding in found] == [
        ("W900", ("roles", "social_lead", "notify", 0, "secret_env"))
    ]
    assert "HOOK_SECRET, which is not set here" in found[0].message
    assert not failed(found, strict=False)
    assert failed(found, strict=True)


def test_an_smtp_host_that_does_not_resolve_is_said_in_words() -> None:
    smtp = Smtp(host="smtp.example.invalid", sender="calmly@example.com")
    roster = Roster(EVERYONE, "roster.yaml", {}, smtp)
    (problem,) = check([COMPLAINT], RosterFile(roster), {}, says_no)
    assert problem.code == "W901"
    assert problem.message.startswith("the SMTP server 'smtp.example.invalid' cannot be found: no such host")
    assert "gaierror" not in problem.message


def test_the_system_resolver_explains_a_failed_lookup_without_the_exception_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_such_host(*_: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    assert system_resolver("smtp.example.invalid") == "no such host is known to DNS; check the spelling"


def test_the_system_resolver_accepts_an_address() -> None:
    assert system_resolver("127.0.0.1") is None


def test_an_approval_nobody_in_the_roster_can_give_is_an_error_at_its_place_in_the_playbook(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "fixtures" / "incident" / "required-replies.good.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  lead: {description: Assesses and closes.}\n",
        "  lead: {description: Assesses and closes.}\n  counsel: {description: Approves replies.}\n",
    )
    text = text.replace(
        "by: [agent], requires: [public_reply]}",
        "by: [agent], requires: [public_reply],\n     approval: {by: [counsel]}}",
        1,
    )
    path = tmp_path / "approved-replies.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_file(path)
    assert loaded.playbook is not None, loaded.problems
    people = {"ann": Person("ann", frozenset({"agent", "lead"}))}

    found = findings(Roster(people, "roster.yaml"), [loaded])

    (problem,) = [finding for finding in found if finding.code == "E901"]
    assert problem.path == ("transitions", 1, "approval", "by", 0)
    assert "no reply for it can be approved and it can never be taken" in problem.message
    assert not [
        finding
        for finding in findings(Roster({**people, "cy": Person("cy", frozenset({"counsel"}))}, "r"), [loaded])
        if finding.code == "E901"
    ]


def test_a_do_not_engage_reason_kept_for_roles_nobody_holds_is_an_error_at_its_by() -> None:
    abuse = load_file(ROOT / "playbooks" / "abuse-and-trolls.yaml")
    assert abuse.playbook is not None, abuse.problems
    # Only a community manager: spam and bots are still hers to give; every reason kept for the social lead or
    # trust & safety is left to nobody.
    desk = {"priya": Person("priya", frozenset({"community_manager"}))}

    found = [finding for finding in findings(Roster(desk, "roster.yaml"), [abuse]) if finding.code == "E901"]

    reasons = [finding for finding in found if finding.path[:2] == ("house_rules", "do_not_engage_reasons")]
    assert [finding.path for finding in reasons] == [
        ("house_rules", "do_not_engage_reasons", index, "by") for index in (2, 3, 4, 5, 6, 7)
    ]
    assert reasons[0].message.startswith(
        "house_rules.do_not_engage_reasons[2].by keeps the reason 'troll' for social_lead, but nobody in the roster "
        "roster.yaml holds that role, so nobody can give it"
    )
    lead = {**desk, "lena": Person("lena", frozenset({"social_lead"}))}
    assert not [
        finding
        for finding in findings(Roster(lead, "roster.yaml"), [abuse])
        if finding.path[:2] == ("house_rules", "do_not_engage_reasons")
    ]


SURGES = ROOT / "tests" / "fixtures" / "playbooks" / "surges"


def test_a_surge_that_opens_a_crisis_under_a_playbook_missing_from_the_set_is_an_error_at_its_place() -> None:
    roster = Roster({"lee": Person("lee", frozenset({"lead", "director"}))}, "roster.yaml")
    found = findings(roster, [load_file(SURGES / "login-outage.yaml")])
    (problem,) = [finding for finding in found if finding.code == "E902"]
    assert problem.path == ("surges", 1, "open", "playbook")
    assert (problem.line, problem.column) == (30, 22)
    assert "no playbook of the set has that id" in problem.message
    assert "the set: login-outage" in problem.message


def test_a_surge_whose_crisis_playbook_is_in_the_set_has_no_finding() -> None:
    roster = Roster({"lee": Person("lee", frozenset({"lead", "director"}))}, "roster.yaml")
    books = [load_file(SURGES / "login-outage.yaml"), load_file(SURGES / "brand-crisis.yaml")]
    assert findings(roster, books) == []
