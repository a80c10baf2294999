"""The behavioural diff over a pool of worker processes agrees with the diff in one process: the same totals and
the same changed incidents, in the order they were recorded, whatever the chunks."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Any

import pytest

from engine.authoring.behaviour import PlaybookText, diff_chunks, diff_incidents, pairs_of
from engine.authoring.diffview import diff_json
from engine.authoring.simulation import simulate
from engine.authoring.timeline import Timeline, read_timeline
from engine.files import load_file
from engine.incident import Rulebook
from engine.store import SQLiteStore
from engine.store.sqlite import _recorded, decode_recorded_rows, read_recorded_range

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "customer-complaint.yaml"
OLD_LIMIT = "limit: {critical: 15m, high: 1h, medium: 4h, low: 24h}"
NEW_LIMIT = "limit: {critical: 10m, high: 30m, medium: 2h, low: 12h}"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    kept = SQLiteStore(tmp_path_factory.mktemp("pool") / "data")
    kept.migrate()
    loaded = load_file(PLAYBOOK).playbook
    assert loaded is not None
    for path in sorted((ROOT / "examples" / "timelines").glob("*.yaml")):
        timeline = read_timeline(path)
        assert isinstance(timeline, Timeline)
        simulate(Rulebook(loaded), timeline, store=kept)
    yield kept
    kept.close()


def test_the_pool_gives_the_diff_one_process_gives(store: SQLiteStore) -> None:
    text = PLAYBOOK.read_text(encoding="utf-8")
    texts = [PlaybookText(text, "old.yaml", text.replace(OLD_LIMIT, NEW_LIMIT), "new.yaml")]
    rows = [row for page, _ in store.recorded_pages(None, None, closed_only=False) for row in page]
    incidents = [list(group) for _, group in groupby(rows, key=lambda row: row[0])]
    chunks = [
        ((decode_recorded_rows, [row for one in incidents[i : i + 2] for row in one]), len(incidents[i : i + 2]))
        for i in range(0, len(incidents), 2)
    ]

    serial = diff_incidents(store.recorded(None, None, closed_only=False), pairs_of(texts, None))
    pooled = diff_chunks(chunks, texts, None, jobs=2)

    assert len(chunks) > 2
    assert serial.incidents == len(incidents) > 5
    assert serial.changed > 0
    assert serial.nondeterministic == 0
    assert diff_json(pooled, []) == diff_json(serial, [])


def test_the_pool_reading_the_store_itself_gives_the_diff_one_process_gives(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_recorded, "PAGE", 2)  # several pages from the few incidents the timelines recorded
    text = PLAYBOOK.read_text(encoding="utf-8")
    texts = [PlaybookText(text, "old.yaml", text.replace(OLD_LIMIT, NEW_LIMIT), "new.yaml")]
    ranges = list(store.recorded_ranges(None, None, closed_only=False))
    chunks = [((read_recorded_range, page), count) for page, count in ranges]
    first = list(read_recorded_range(ranges[0][0]))  # this process's connection, which a forked worker must not use

    serial = diff_incidents(store.recorded(None, None, closed_only=False), pairs_of(texts, None))
    pooled = diff_chunks(chunks, texts, None, jobs=2)

    assert len(ranges) > 2
    assert len(first) == ranges[0][1]
    assert sum(count for _, count in ranges) == serial.incidents > 5
    assert serial.changed > 0
    assert diff_json(pooled, []) == diff_json(serial, [])


@pytest.mark.parametrize("closed_only", [False, True])
def test_a_range_read_elsewhere_holds_the_incidents_a_page_of_recorded_holds(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, closed_only: bool
) -> None:
    monkeypatch.setattr(_recorded, "PAGE", 2)
    everything = list(store.recorded(None, None, closed_only=False))
    since = everything[1].incident.opened_at

    for start in (None, since):
        ranges = list(store.recorded_ranges(start, None, closed_only=closed_only))
        read = [recorded for page, _ in ranges for recorded in read_recorded_range(page)]

        assert read == list(store.recorded(start, None, closed_only=closed_only))
        assert [count for _, count in ranges] == [len(list(read_recorded_range(page))) for page, _ in ranges]


def test_an_event_row_holding_two_values_is_an_error_not_a_shifted_log(store: SQLiteStore) -> None:
    rows = [row for page, _ in store.recorded_pages(None, None, closed_only=False) for row in page]
    first = [row for row in rows if row[0] == rows[0][0]]
    broken = [first[0], (*first[1][:9], '{"type":"note"},{"type":"note"}', first[1][10]), *first[2:]]

    with pytest.raises(ValueError, match="Extra data"):
        list(decode_recorded_rows(broken))
