"""The roster: people and roles, and where each role hears of escalations."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.playbook import Failed
from engine.service import Roster, load_roster

ROOT = Path(__file__).resolve().parents[2]


def _roster(tmp_path: Path, text: str) -> Roster:
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    found = load_roster(path)
    assert isinstance(found, Roster), found
    return found


@pytest.mark.parametrize("name", ["roster.yaml", "roster-with-channels.yaml"])
def test_the_example_rosters_load(name: str) -> None:
    assert isinstance(load_roster(ROOT / "examples" / name), Roster)


def test_a_role_with_no_channels_is_notified_in_the_log(tmp_path: Path) -> None:
    roster = _roster(tmp_path, "people:\n  alice: {roles: [community_manager]}\n")
    (only,) = roster.destinations(["community_manager"])
    assert (only.id, only.channel) == ("log:community_manager", "log")


def test_email_goes_to_each_person_in_the_role_with_an_address_or_to_the_addresses_given(tmp_path: Path) -> None:
    roster = _roster(
        tmp_path,
        "people:\n"
        "  bob: {roles: [social_lead], email: bob@example.com}\n"
        "  eve: {roles: [social_lead]}\n"
        "  dana: {roles: [comms_director, social_lead], email: dana@example.com}\n"
        "roles:\n"
        "  social_lead: {notify: [{channel: email}]}\n"
        "  comms_director: {notify: [{channel: email, to: [dana@example.com, board@example.com]}]}\n"
        "smtp: {host: 127.0.0.1, from: calmly@example.com}\n",
    )
    found = [item.id for item in roster.destinations(["social_lead", "comms_director"])]
    assert found == ["email:bob@example.com", "email:dana@example.com", "email:board@example.com"]


def test_two_roles_on_one_slack_channel_get_one_message(tmp_path: Path) -> None:
    roster = _roster(
        tmp_path,
        "people:\n  a: {roles: [one]}\n  b: {roles: [two]}\n"
        "roles:\n"
        "  one: {notify: [{channel: slack, url_env: TEAM_SLACK}]}\n"
        "  two: {notify: [{channel: slack, url_env: TEAM_SLACK}, {channel: log}]}\n",
    )
    assert [item.id for item in roster.destinations(["one", "two"])] == ["slack:TEAM_SLACK", "log:two"]


def test_a_slack_address_written_in_the_roster_never_shows_in_the_destination_name(tmp_path: Path) -> None:
    roster = _roster(
        tmp_path,
        "people:\n  a: {roles: [one]}\nroles:\n  one: {notify: [{channel: slack, url: 'https://hooks.example/T0/SECRET'}]}\n",
    )
    (only,) = roster.destinations(["one"])
    assert "SECRET" not in only.id


def test_email_without_a_mail_server_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text("people:\n  a: {roles: [one]}\nroles:\n  one: {notify: [{channel: email}]}\n", encoding="utf-8")
    found = load_roster(path)
    assert isinstance(found, Failed)
    problems = found.problems
    assert (problems[0].line, problems[0].column) == (3, 1)
    assert "no 'smtp' section" in problems[0].message


def test_a_secret_written_where_a_variable_name_belongs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(
        "people:\n  a: {roles: [one]}\nroles:\n  one: {notify: [{channel: webhook, url: 'https://x.example', "
        "secret_env: whsec_abc}]}\n",
        encoding="utf-8",
    )
    found = load_roster(path)
    assert isinstance(found, Failed)
    problems = found.problems
    assert problems[0].line == 4
