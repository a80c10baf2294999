"""Intake in a surge: the requests that wait while one is written are taken together, in one unit of work, and
each still gets its own answer: its results, or the refusal that was its own alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from intake_support import mention as sent_by_ann

from engine.api._lane import GROUP_MENTIONS, IntakeLane
from engine.errors import Replayed, Unauthorized
from engine.service import IntakeResult, Library, Sent, Service
from engine.store import IncidentFilter, SQLiteStore
from engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
START = "2026-11-23T09:00:00+00:00"


def mention(external_id: str, **extra: object) -> dict[str, object]:
    """A complaint from an author of its own, so that each opens an incident."""
    return sent_by_ann(external_id, handle=f"@{external_id}", **extra)


class Counted(Service):
    """The daemon's service, noting the size of each group it was given."""

    groups: list[int]

    def ingest_together(self, requests: Sequence[Sent]) -> list[list[IntakeResult] | Exception]:
        self.groups.append(len(requests))
        return super().ingest_together(requests)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Counted]:
    clock = FakeClock(START)
    store = SQLiteStore(tmp_path / "data")
    store.migrate()
    library = Library(store)
    library.install([ROOT / "playbooks"], clock.now())
    made = Counted(store, library, clock.now)
    made.groups = []
    yield made
    store.close()


def _open_count(service: Service) -> int:
    return len(service.store.incidents(IncidentFilter(open_only=True, limit=1000)))


def _behind_one(lane: IntakeLane, first: Sent, then: list[Sent]) -> list[list[IntakeResult]]:
    """``first`` taken by the lane, which is kept reading it until every request of ``then`` has been put in
    behind it; the answers, in that order."""
    reading = threading.Event()
    all_queued = threading.Event()

    def read_first() -> Sent:
        reading.set()
        all_queued.wait(10)  # the lane is busy with this one while the others arrive
        return first

    async def surge() -> list[list[IntakeResult]]:
        opening = asyncio.ensure_future(lane.take(read_first))
        await asyncio.get_running_loop().run_in_executor(None, reading.wait, 10)
        rest = [asyncio.ensure_future(lane.take(lambda sent=sent: sent)) for sent in then]
        await asyncio.sleep(0)  # every take has put its request in the lane
        all_queued.set()
        return [await opening, *[await each for each in rest]]

    return asyncio.run(surge())


def test_requests_waiting_together_are_committed_in_one_group_and_each_gets_its_own_results(
    service: Counted,
) -> None:
    answers = _behind_one(
        IntakeLane(lambda: service), Sent([mention("first")]), [Sent([mention(f"m{n}")]) for n in range(20)]
    )

    assert [len(results) for results in answers] == [1] * 21
    assert all(results[0].status == "opened" for results in answers)
    assert len({results[0].incident_id for results in answers}) == 21
    assert service.groups == [21]  # the first, read while the others came, and the 20 behind it: one commit
    assert _open_count(service) == 21


def test_a_request_refused_while_it_is_read_is_refused_alone_and_the_others_are_taken(service: Counted) -> None:
    lane = IntakeLane(lambda: service)

    def refused() -> Sent:
        raise Unauthorized("the token is not known", code="unknown_token")

    async def surge() -> list[list[IntakeResult] | BaseException]:
        jobs = [lane.take(refused if n == 2 else (lambda n=n: Sent([mention(f"m{n}")]))) for n in range(5)]
        return await asyncio.gather(*jobs, return_exceptions=True)

    answers = asyncio.run(surge())

    assert isinstance(answers[2], Unauthorized)
    assert all(isinstance(answer, list) and answer[0].status == "opened" for n, answer in enumerate(answers) if n != 2)
    assert _open_count(service) == 4


def test_a_replayed_signed_request_in_a_group_is_refused_and_the_rest_of_the_group_is_still_committed(
    service: Counted,
) -> None:
    received = service.clock()
    (taken,) = service.ingest_together([Sent([mention("signed-1")], ("msg_1", received))])
    assert isinstance(taken, list)

    outcomes = service.ingest_together(
        [
            Sent([mention("a")]),
            Sent([mention("signed-2")], ("msg_1", received + timedelta(seconds=1))),  # the same webhook-id again
            Sent([mention("b")]),
        ]
    )

    assert isinstance(outcomes[1], Replayed)
    assert [result.status for result in outcomes[0]] == ["opened"]  # type: ignore[union-attr]
    assert [result.status for result in outcomes[2]] == ["opened"]  # type: ignore[union-attr]
    assert service.store.mention("twitter", "signed-2") is None
    assert _open_count(service) == 3


def test_an_invalid_mention_in_a_group_changes_nothing_of_its_request_and_nothing_of_the_others(
    service: Counted,
) -> None:
    bad = {**mention("bad"), "posted_at": "yesterday"}

    outcomes = service.ingest_together(
        [Sent([mention("a")], all_or_nothing=True), Sent([mention("c"), bad], all_or_nothing=True)]
    )

    assert [result.status for result in outcomes[0]] == ["opened"]  # type: ignore[union-attr]
    assert [result.status for result in outcomes[1]] == ["not_recorded", "invalid"]  # type: ignore[union-attr]
    assert service.store.mention("twitter", "c") is None
    assert _open_count(service) == 1


def test_a_group_is_closed_once_it_holds_enough_mentions_so_nothing_waits_behind_a_long_one(
    service: Counted,
) -> None:
    big = Sent([mention(f"big{n}") for n in range(GROUP_MENTIONS)])

    _behind_one(IntakeLane(lambda: service), big, [Sent([mention(f"s{n}")]) for n in range(3)])

    assert service.groups == [1, 3]
