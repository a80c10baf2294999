"""``calmly export`` and ``calmly report`` on a real store: two example timelines played through the service on a
simulated clock into a SQLite data folder, then exported (plain and redacted) and reported in every format, from
the store and from the export; and bad input, told in one line with exit 1 or 2, never a traceback."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from test_daemon_commands import ROOT, calmly, environment

from engine.authoring.simulation import simulate
from engine.authoring.timeline import Timeline, read_timeline
from engine.files import load_file
from engine.incident import Rulebook
from engine.service import Library
from engine.store import SQLiteStore

STORIES = {
    "customer-complaint": "broken-order",  # acknowledged late, a replacement promised and kept, reviewed
    "abuse-and-trolls": "abuse-and-trolls",  # a troll and a bot not engaged, a reply the house rules refused
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reported") / "data"
    store = SQLiteStore(folder)
    store.migrate()
    try:
        for playbook, story in STORIES.items():
            path = ROOT / "playbooks" / f"{playbook}.yaml"
            timeline = read_timeline(ROOT / "examples" / "timelines" / f"{story}.yaml")
            assert isinstance(timeline, Timeline)
            # Installed as the daemon installs them, so the store keeps each version's source and calendars.
            Library(store).install([path], timeline.start)
            loaded = load_file(path).playbook
            assert loaded is not None
            simulate(Rulebook(loaded), timeline, store=store)
    finally:
        store.close()
    return folder


@pytest.fixture(scope="module")
def exported(data: Path) -> Path:
    target = data.parent / "export.jsonl"
    done = calmly("export", "--data", str(data), "--output", str(target))
    assert done.returncode == 0, done.stderr
    return target


def _json_report(*args: str) -> dict[str, Any]:
    done = calmly("report", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_export_writes_a_header_the_playbooks_and_one_line_per_closed_incident(exported: Path) -> None:
    lines = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["type"] == "export"
    assert (lines[0]["format"], lines[0]["version"], lines[0]["redacted"]) == ("calmly-export", 1, False)
    playbooks = [line["id"] for line in lines if line["type"] == "playbook"]
    assert sorted(playbooks) == sorted(STORIES)
    incidents = [line for line in lines if line["type"] == "incident"]
    assert len(incidents) == 4
    assert all(line["final"] and line["events"] for line in incidents)
    first = incidents[0]["events"][0]
    assert first["command"]["type"] == "open"
    assert first["history"][0]["kind"] == "opened"


def test_report_answers_how_the_team_did_and_what_it_learned(data: Path) -> None:
    overall = _json_report("--data", str(data))["overall"]
    assert (overall["incidents"], overall["closed"]) == (4, 4)
    assert overall["first_response"]["calendar"]["count"] == 2
    # The broken order: opened Monday 09:00, answered at 13:20; resolved Tuesday 11:00 (11 office hours later).
    assert overall["resolution"]["calendar"]["count"] == 2
    assert overall["targets"]["first_response"]["late"] == 1
    assert overall["do_not_engage"] == {"spam": 1, "troll": 1}
    assert {"reason": "house_rule", "phrase": "watch your language", "refused": 1} in overall["refusals"]
    assert overall["promises"]["kept"] == 1
    review = overall["review"]
    assert review["reviewed"] == 2
    assert review["never_reviewed"] == 0
    missed = review["questions"]["missed_opportunity"]["answers"]
    assert [item["answer"] for item in missed] == ["Packaging for fragile items"]
    assert any(item["step"] == "100%" for item in overall["escalations"])


def test_business_hours_are_counted_on_the_playbook_calendar(data: Path) -> None:
    report = _json_report("--data", str(data), "--by", "playbook")
    [complaint] = [group for group in report["groups"] if group["key"] == "customer-complaint"]
    resolution = complaint["resolution"]
    assert resolution["calendar"]["median_seconds"] == 26 * 3600  # Monday 09:00 to Tuesday 11:00
    assert resolution["business_hours"]["median_seconds"] == 11 * 3600  # 9 office hours on Monday, 2 on Tuesday


def test_a_report_from_the_export_gives_the_figures_of_the_store(data: Path, exported: Path) -> None:
    from_store = _json_report("--data", str(data), "--by", "severity")
    from_export = _json_report("--export", str(exported), "--by", "severity")
    assert from_export["overall"] == from_store["overall"]
    assert from_export["groups"] == from_store["groups"]


@pytest.mark.parametrize("by", ["playbook", "severity", "channel", "week", "role"])
def test_report_groups_by_each_grouping(data: Path, by: str) -> None:
    report = _json_report("--data", str(data), "--by", by)
    assert report["by"] == by
    assert sum(group["incidents"] for group in report["groups"]) >= report["overall"]["incidents"]


def test_report_as_text_shows_the_tables(data: Path) -> None:
    done = calmly("report", "--data", str(data), "--by", "playbook")
    assert done.returncode == 0, done.stderr
    assert "first response" in done.stdout
    assert "playbook customer-complaint" in done.stdout
    assert "'watch your language'" in done.stdout


def test_report_as_csv_has_a_row_per_figure(data: Path) -> None:
    done = calmly("report", "--data", str(data), "--format", "csv", "--by", "channel")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    figures = {(row["group"], row["figure"]): row["value"] for row in rows}
    assert figures[("all", "incidents")] == "4"
    assert figures[("channel=twitter", "do_not_engage.troll")] == "1"


def test_report_as_html_is_one_page_with_its_charts_and_nothing_fetched(data: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    done = calmly("report", "--data", str(data), "--format", "html", "--output", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('src="data:image/png;base64,') == 3
    for title in ("Trends per week", "Compliance per severity", "Distribution of first-response times"):
        assert title in html
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html


def test_a_redacted_export_holds_no_handle_and_no_post_text(data: Path, tmp_path: Path) -> None:
    store = SQLiteStore(data)
    try:
        mentions = [mention for incident in store.all_incident_ids() for mention in store.mentions_of(incident)]
    finally:
        store.close()
    handles = {str(mention.body["author"]["handle"]).lstrip("@").casefold() for mention in mentions}
    texts = {str(mention.body["text"]) for mention in mentions}
    target = tmp_path / "redacted.jsonl"
    done = calmly("export", "--data", str(data), "--redact", "--output", str(target))
    assert done.returncode == 0, done.stderr
    lines = target.read_text(encoding="utf-8").splitlines()
    incidents = "\n".join(line for line in lines if json.loads(line)["type"] == "incident").casefold()
    assert handles
    assert texts
    assert not {handle for handle in handles if handle in incidents}
    assert not {text for text in texts if text.casefold() in incidents}
    assert json.loads(lines[0])["redacted"] is True
    assert "packaging for fragile items" not in incidents  # a free-text review answer is what someone wrote too
    # Times, counts, states and verdicts stay: a report from it gives every figure of one from the store, by every
    # grouping, but for the free-text answers it lists.
    for by in ("playbook", "role", "week"):
        from_export = _json_report("--export", str(target), "--by", by)
        from_store = _json_report("--data", str(data), "--by", by)
        for report in (from_export, from_store):
            report.pop("as_of", None)
            report.pop("source", None)
            for group in (report["overall"], *report["groups"]):
                questions = group["review"]["questions"]
                for name in [name for name, question in questions.items() if question["answer"] == "text"]:
                    del questions[name]
        assert from_export == from_store
    report = _json_report("--export", str(target))["overall"]
    assert report["incidents"] == 4
    assert {"reason": "house_rule", "phrase": "watch your language", "refused": 1} in report["refusals"]


def test_a_period_leaves_out_incidents_opened_outside_it(data: Path) -> None:
    assert _json_report("--data", str(data), "--until", "2026-11-01")["overall"]["incidents"] == 0
    assert _json_report("--data", str(data), "--since", "2026-11-01")["overall"]["incidents"] == 4


@pytest.mark.parametrize(
    ("args", "code", "told"),
    [
        (("--by", "colour"), 2, "'colour' is not one of"),
        (("--since", "2026-12-01", "--until", "2026-11-01"), 2, "before it starts"),
        (("--since", "last tuesday"), 2, "not a date or a moment"),
        (("--format", "pdf"), 2, "'pdf' is not one of"),
        (("--until", "9999-12-31"), 2, "not a date or a moment"),  # no day after it to end the period on
        (("--since", "0001-01-01T00:00:00+01:00"), 2, "not a date or a moment"),
    ],
)
def test_bad_report_options_are_usage_errors(data: Path, args: tuple[str, ...], code: int, told: str) -> None:
    done = calmly("report", "--data", str(data), *args)
    assert done.returncode == code
    assert told in done.stderr


def test_report_needs_one_source(data: Path, exported: Path) -> None:
    assert calmly("report").returncode == 2
    assert calmly("report", "--data", str(data), "--export", str(exported)).returncode == 2


def test_an_export_asked_for_reads_the_export_though_the_environment_names_a_store(exported: Path) -> None:
    # An operator's shell names the daemon's store for every command; a report of an export reads the export.
    env = {**environment(), "CALMLY_DATA": "/nowhere/data", "CALMLY_STORE": "postgresql://nobody@127.0.0.1:1/x"}
    done = calmly("report", "--export", str(exported), "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["overall"]["incidents"] == 4


def test_a_missing_store_is_told_not_made(tmp_path: Path) -> None:
    for command in ("report", "export"):
        done = calmly(command, "--data", str(tmp_path / "nowhere"))
        assert done.returncode == 1
        assert "nowhere" in done.stderr
        assert not (tmp_path / "nowhere").exists()


def test_a_broken_export_line_is_told_with_its_file_and_line(exported: Path, tmp_path: Path) -> None:
    lines = exported.read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([*lines[:3], '{"type": "incident", "final": tru', *lines[3:]]) + "\n", encoding="utf-8")
    done = calmly("report", "--export", str(broken))
    assert done.returncode == 1
    assert f"{broken.as_posix()}:4: not JSON" in done.stderr
    missing = tmp_path / "missing-field.jsonl"
    missing.write_text("\n".join([lines[0], '{"type": "incident", "final": true}']) + "\n", encoding="utf-8")
    done = calmly("report", "--export", str(missing))
    assert (done.returncode, f"{missing.as_posix()}:2: an incident line without 'incident'" in done.stderr) == (1, True)
    other = tmp_path / "not-an-export.jsonl"
    other.write_text('{"channel": "twitter"}\n', encoding="utf-8")
    done = calmly("report", "--export", str(other))
    assert done.returncode == 1
    assert "not a calmly export" in done.stderr


def test_an_export_that_is_not_text_is_told_not_traced(tmp_path: Path) -> None:
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b'{"type": "export"}\n\xff\xfe\x00garbage\n')
    done = calmly("report", "--export", str(binary))
    assert done.returncode == 1
    assert "not UTF-8" in done.stderr or "not a calmly export" in done.stderr
