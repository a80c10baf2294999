"""The desk's live channel: the daemon's change feed, in its own memory, and the server-sent events a page
listens to (``GET /desk/events``).

The service publishes from whatever thread committed (a request's worker, the scheduler); each listener has a
bounded queue on its event loop, filled with ``call_soon_threadsafe``, so publishing never waits for a page. A
listener that falls that far behind is dropped: its stream ends, the browser reconnects by itself and reads the
queue afresh, which costs less than holding notices for a page that is not reading. Several daemons over one
database swap :class:`LocalFeed` for a feed with the same two methods (:class:`engine.api.ChangeFeed`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse, ServerSentEvent

from engine.api import ChangeFeed, IncidentNotice
from engine.api._context import Context
from engine.service import Change

__all__ = ["HEARTBEAT_SECONDS", "LocalFeed", "live_router"]

#: A comment line this often keeps proxies from closing a quiet stream, and tells the page it is still live.
HEARTBEAT_SECONDS = 15.0
#: Notices a listener may have unread before it is dropped: far more than a page reads between two events.
BACKLOG = 256


class _Listener:
    """One page's notices: a bounded queue on the event loop the page is read from."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int, gone: Callable[[_Listener], None]) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[IncidentNotice | None] = asyncio.Queue(capacity)
        self._gone = gone
        self.dropped = False
        self._closed = False

    def offer(self, notice: IncidentNotice) -> None:
        """From any thread: hand the notice to the listener's loop; never waits."""
        try:
            self._loop.call_soon_threadsafe(self._put, notice)
        except RuntimeError:  # the loop has closed: the page is gone
            self._end()

    def _put(self, notice: IncidentNotice) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(notice)
        except asyncio.QueueFull:
            self.dropped = True
            self._gone(self)
            self._finish()

    def _finish(self) -> None:
        """On the loop, after what was published before: the end marker, in place of anything still unread when
        the queue is full (a page that reads afresh needs none of it)."""
        if self._closed:
            return
        self._closed = True
        if self._queue.full():
            while not self._queue.empty():
                self._queue.get_nowait()
        self._queue.put_nowait(None)

    def _end(self) -> None:
        self._closed = True
        self._gone(self)

    def close(self) -> None:
        """No more notices; the ones published before are still read."""
        self._gone(self)
        try:
            self._loop.call_soon_threadsafe(self._finish)
        except RuntimeError:  # the loop has closed: nobody is reading
            self._closed = True

    async def __aiter__(self) -> AsyncIterator[IncidentNotice]:
        while True:
            notice = await self._queue.get()
            if notice is None:
                return
            yield notice


class LocalFeed:
    """The change feed of one daemon: thread-safe, in memory, each listener bounded (see the module's note)."""

    def __init__(self, backlog: int = BACKLOG) -> None:
        self._backlog = backlog
        self._lock = threading.Lock()
        self._listeners: set[_Listener] = set()

    def publish(self, change: Change) -> None:
        notice = IncidentNotice.of(change)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.offer(notice)

    def subscribe(self) -> _Listener:
        """A listener on the running event loop; close it when the page goes."""
        listener = _Listener(asyncio.get_running_loop(), self._backlog, self._forget)
        with self._lock:
            self._listeners.add(listener)
        return listener

    def _forget(self, listener: _Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    @property
    def listening(self) -> int:
        with self._lock:
            return len(self._listeners)


def _event(notice: IncidentNotice) -> ServerSentEvent:
    data = json.dumps({"id": notice.id, "state": notice.state, "revision": notice.revision})
    return ServerSentEvent(data=data, event="incident")


def live_router(signed_in: Callable[..., Any], heartbeat: float = HEARTBEAT_SECONDS) -> APIRouter:
    """``GET /desk/events`` for the people ``signed_in`` lets through (the desk's session dependency), a heartbeat
    comment every ``heartbeat`` seconds."""
    router = APIRouter(include_in_schema=False)

    @router.get("/desk/events", dependencies=[Depends(signed_in)])
    async def events(context: Context) -> EventSourceResponse:
        feed: ChangeFeed | None = context.feed
        subscription = feed.subscribe() if feed is not None else None

        async def stream() -> AsyncIterator[ServerSentEvent]:
            # The first line says the stream is open, so the page clears its "not live" banner at once.
            yield ServerSentEvent(comment="live")
            if subscription is None:  # a daemon without a feed: heartbeats only, never an event
                await asyncio.Event().wait()
                return
            try:
                async for notice in subscription:
                    yield _event(notice)
            finally:
                subscription.close()

        return EventSourceResponse(stream(), ping=heartbeat, headers={"Cache-Control": "no-store"})

    return router
