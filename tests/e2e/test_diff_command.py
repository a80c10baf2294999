"""``calmly diff`` on a real store: the broken-order timeline played through the service under the shipped
customer-complaint playbook on a simulated clock into a SQLite data folder, then diffed against a copy of the
playbook with shorter limits, in every format, from the store, an export and the timeline itself, with ``--from`` a
git revision; and bad input, told with exit 1 or 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_daemon_commands import ROOT, calmly

from engine.authoring.simulation import simulate
from engine.authoring.timeline import Timeline, read_timeline
from engine.files import load_file
from engine.incident import Rulebook
from engine.service import Library
from engine.store import SQLiteStore

PLAYBOOK = ROOT / "playbooks" / "customer-complaint.yaml"
TIMELINE = ROOT / "examples" / "timelines" / "broken-order.yaml"
OLD_LIMIT = "limit: {critical: 15m, high: 1h, medium: 4h, low: 24h}"
NEW_LIMIT = "limit: {critical: 10m, high: 30m, medium: 2h, low: 12h}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("diffed")


@pytest.fixture(scope="module")
def data(folder: Path) -> Path:
    target = folder / "data"
    store = SQLiteStore(target)
    store.migrate()
    try:
        timeline = read_timeline(TIMELINE)
        assert isinstance(timeline, Timeline)
        Library(store).install([PLAYBOOK], timeline.start)
        loaded = load_file(PLAYBOOK).playbook
        assert loaded is not None
        simulate(Rulebook(loaded), timeline, store=store)
    finally:
        store.close()
    return target


@pytest.fixture(scope="module")
def playbooks(folder: Path) -> tuple[Path, Path]:
    text = PLAYBOOK.read_text(encoding="utf-8")
    assert OLD_LIMIT in text
    old, new = folder / "old.yaml", folder / "new.yaml"
    old.write_text(text, encoding="utf-8")
    new.write_text(text.replace(OLD_LIMIT, NEW_LIMIT), encoding="utf-8")
    return old, new


def _json(*args: str) -> dict[str, Any]:
    done = calmly("diff", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_diff_in_text_says_which_notifications_come_earlier_and_to_whom(
    data: Path, playbooks: tuple[Path, Path]
) -> None:
    old, new = playbooks

    done = calmly("diff", str(old), str(new), "--replay", str(data))

    assert done.returncode == 0, done.stderr
    assert "incidents replayed     1" in done.stdout
    assert "determinism failures   0" in done.stdout
    assert "inc-1 (customer-complaint v2 -> v2, medium)" in done.stdout
    assert "notification moved: community_manager (warning on limit:detected, Mon 23 Nov 10:30 UTC), 1h30m earlier" in (
        done.stdout
    )
    assert "notification moved: social_lead (breach on limit:detected, Mon 23 Nov 11:00 UTC), 2h earlier" in done.stdout


def test_diff_in_json_counts_the_changes_per_role(data: Path, playbooks: tuple[Path, Path]) -> None:
    old, new = playbooks

    found = _json(str(old), str(new), "--replay", str(data))

    totals = found["totals"]
    assert (totals["incidents"], totals["changed"], totals["determinism_failures"]) == (1, 1, 0)
    assert totals["notifications_earlier"] == {"community_manager": 1, "social_lead": 1}
    assert totals["notifications_added"] == {"comms_director": 1}
    (incident,) = found["incidents"]
    assert incident["state"] == {"old": "reviewed", "new": "reviewed"}
    assert [n["role"] for n in incident["notifications"]["added"]] == ["comms_director"]


def test_diff_in_markdown_is_a_table_and_a_folded_list_for_a_pull_request(
    data: Path, playbooks: tuple[Path, Path]
) -> None:
    old, new = playbooks

    done = calmly("diff", str(old), str(new), "--replay", str(data), "--format", "markdown")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("### calmly diff: ")
    assert "| incidents replayed | 1 |" in done.stdout
    assert "| notifications earlier | community_manager 1 (on average 1h30m), social_lead 1 (on average 2h) |" in (
        done.stdout
    )
    assert "<details><summary>Changed incidents</summary>" in done.stdout


def test_an_export_and_the_timeline_itself_give_the_same_totals_as_the_store(
    data: Path, playbooks: tuple[Path, Path], folder: Path
) -> None:
    old, new = playbooks
    exported = folder / "export.jsonl"
    assert calmly("export", "--data", str(data), "--output", str(exported)).returncode == 0

    from_store = _json(str(old), str(new), "--replay", str(data))["totals"]
    from_export = _json(str(old), str(new), "--replay", str(exported))["totals"]
    serial = _json(str(old), str(new), "--replay", str(exported), "--jobs", "1")["totals"]
    from_timeline = _json(str(old), str(new), "--replay", str(TIMELINE))["totals"]

    assert from_export == from_store == serial == from_timeline


def test_a_playbook_unchanged_finds_nothing_and_fail_on_change_fails_only_on_a_change(
    data: Path, playbooks: tuple[Path, Path]
) -> None:
    old, new = playbooks

    same = calmly("diff", str(old), str(old), "--replay", str(data), "--fail-on-change")
    changed = calmly("diff", str(old), str(new), "--replay", str(data), "--fail-on-change")

    assert same.returncode == 0, same.stderr
    assert "No recorded incident would have gone differently." in same.stdout
    assert changed.returncode == 1


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, timeout=30
    )  # a fixed command line


@pytest.fixture(scope="module")
def repo(folder: Path) -> Path:
    repo = folder / "repo"
    (repo / "playbooks").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "lead@example.com")
    _git(repo, "config", "user.name", "Comms Lead")
    path = repo / "playbooks" / "customer-complaint.yaml"
    text = PLAYBOOK.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "The playbook as it runs")
    path.write_text(text.replace(OLD_LIMIT, NEW_LIMIT), encoding="utf-8")  # the change under review
    return repo


def test_from_a_git_revision_compares_the_working_playbook_with_itself_there(data: Path, repo: Path) -> None:
    path = repo / "playbooks" / "customer-complaint.yaml"

    found = _json("--from", "main", str(path), "--replay", str(data))

    assert found["playbooks"] == [{"old": f"main:{path.as_posix()}", "new": path.as_posix()}]
    assert found["totals"]["notifications_earlier"] == {"community_manager": 1, "social_lead": 1}


def test_an_unknown_revision_is_named_with_exit_1(data: Path, repo: Path) -> None:
    done = calmly(
        "diff", "--from", "no-such-branch", str(repo / "playbooks" / "customer-complaint.yaml"), "--replay", str(data)
    )

    assert done.returncode == 1
    assert "cannot read" in done.stderr
    assert "at revision 'no-such-branch'" in done.stderr


def test_a_playbook_with_errors_gets_the_validators_located_problems(data: Path, folder: Path) -> None:
    broken = folder / "broken.yaml"
    broken.write_text(PLAYBOOK.read_text(encoding="utf-8").replace("to: assessed,", "to: nowhere,"), encoding="utf-8")

    done = calmly("diff", str(PLAYBOOK), str(broken), "--replay", str(data))

    assert done.returncode == 1
    assert f"{broken.as_posix()}:" in done.stderr
    assert "nowhere" in done.stderr
    assert f"cannot diff {broken.as_posix()}: fix the errors above first" in done.stderr


def test_a_broken_export_line_is_named_by_file_and_line(data: Path, playbooks: tuple[Path, Path], folder: Path) -> None:
    old, new = playbooks
    exported = folder / "broken-export.jsonl"
    assert calmly("export", "--data", str(data), "--output", str(exported)).returncode == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    exported.write_text("\n".join([*lines, "{not json"]) + "\n", encoding="utf-8")

    done = calmly("diff", str(old), str(new), "--replay", str(exported))

    assert done.returncode == 1
    assert f"{exported.as_posix()}:{len(lines) + 1}: not JSON" in done.stderr


def test_a_tampered_recording_is_a_determinism_failure_with_exit_1(
    data: Path, playbooks: tuple[Path, Path], folder: Path
) -> None:
    old, new = playbooks
    exported = folder / "tampered.jsonl"
    assert calmly("export", "--data", str(data), "--output", str(exported)).returncode == 0
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        if line["type"] == "incident":
            line["incident"]["severity"] = "high"  # not what the playbook's rules and the team said
    exported.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    done = calmly("diff", str(old), str(new), "--replay", str(exported))

    assert done.returncode == 1
    assert "determinism failures   1" in done.stdout
    assert "DETERMINISM inc-1" in done.stdout
    assert "severity: recorded high, replayed medium" in done.stdout


def test_usage_errors_exit_2(data: Path, playbooks: tuple[Path, Path]) -> None:
    old, _ = playbooks

    one_playbook = calmly("diff", str(old), "--replay", str(data))
    no_source = calmly("diff", str(old), str(old))

    assert one_playbook.returncode == 2
    assert "give OLD and NEW" in one_playbook.stderr
    assert no_source.returncode == 2


def test_a_source_that_is_not_there_is_named(playbooks: tuple[Path, Path], folder: Path) -> None:
    old, new = playbooks

    done = calmly("diff", str(old), str(new), "--replay", str(folder / "nothing-here"))

    assert done.returncode == 1
    assert "there is nothing at" in done.stderr


def test_a_role_nobody_in_the_roster_holds_is_told_as_reaching_nobody(data: Path, folder: Path) -> None:
    text = PLAYBOOK.read_text(encoding="utf-8")
    duty = folder / "duty.yaml"
    duty.write_text(
        text.replace(
            "  comms_director:    {description: Decides when an incident becomes a crisis.}\n",
            "  comms_director:    {description: Decides when an incident becomes a crisis.}\n"
            "  duty_manager:      {description: Covers the breaches.}\n",
        ).replace("{after: 100%, notify: [social_lead],", "{after: 100%, notify: [social_lead, duty_manager],"),
        encoding="utf-8",
    )

    found = _json(str(PLAYBOOK), str(duty), "--replay", str(data), "--roster", str(ROOT / "examples" / "roster.yaml"))

    assert found["totals"]["reaching_nobody"] == {"duty_manager": 3}
    (incident,) = found["incidents"]
    assert {n["clock"] for n in incident["notifications"]["reaching_nobody"]} == {
        "first_response",
        "limit:detected",
        "resolution",
    }
