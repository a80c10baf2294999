"""The desk's change feed in one daemon's memory: every listener is told each committed change in order, from any
thread, and a listener that stops reading is dropped rather than holding the publisher up."""

from __future__ import annotations

import asyncio
import threading

from incident_support import T0, opened

from engine.api import IncidentNotice
from engine.desk import LocalFeed
from engine.service import Change


def _change(number: int) -> Change:
    return Change(None, opened(incident_id=f"inc-{number}"), T0)


def test_tells_every_listener_each_change_published_from_another_thread() -> None:
    async def scenario() -> tuple[list[IncidentNotice], list[IncidentNotice]]:
        feed = LocalFeed()
        first, second = feed.subscribe(), feed.subscribe()
        publisher = threading.Thread(target=lambda: [feed.publish(_change(n)) for n in range(3)])
        publisher.start()
        publisher.join()
        first.close()
        second.close()
        return [notice async for notice in first], [notice async for notice in second]

    first, second = asyncio.run(scenario())

    expected = [IncidentNotice.of(_change(n)) for n in range(3)]
    assert first == expected
    assert second == expected


def test_drops_a_listener_that_stops_reading_without_holding_up_the_others() -> None:
    async def scenario() -> tuple[list[str], list[str], bool, int]:
        feed = LocalFeed(backlog=4)
        reading, stalled = feed.subscribe(), feed.subscribe()
        received: list[str] = []

        async def read() -> None:
            async for notice in reading:
                received.append(notice.id)

        reader = asyncio.create_task(read())
        for number in range(20):
            feed.publish(_change(number))  # never waits: each notice is handed to the listener's loop
            await asyncio.sleep(0)  # a turn of the loop, so the reading listener keeps up as a live page would
        reading.close()
        await reader
        left = [notice.id async for notice in stalled]
        return received, left, stalled.dropped, feed.listening

    received, left, dropped, listening = asyncio.run(scenario())

    assert received == [f"inc-{n}" for n in range(20)]
    assert dropped
    assert left == []  # its stream simply ends: the page reconnects and reads the queue afresh
    assert listening == 0


def test_forgets_a_listener_whose_event_loop_has_ended_without_closing_it() -> None:
    feed = LocalFeed()

    async def open_and_leave() -> None:
        feed.subscribe()  # a page whose connection died before its stream could close the listener

    asyncio.run(open_and_leave())

    feed.publish(_change(1))  # raises nothing: publishing never fails for a listener's sake

    assert feed.listening == 0
