"""The desk's live channel: the daemon's change feed, in its own memory, and the server-sent events a page
listens to (``GET /desk/events``): an ``incident`` event when one opens or changes, a ``presence`` event when
someone comes to, starts drafting on or leaves an incident (who is there now, the page's own person left out).

The service publishes from whatever thread committed (a request's worker, the scheduler); each listener has a
bounded queue on its event loop, filled with ``call_soon_threadsafe``, so publishing never waits for a page. A
listener that falls that far behind is dropped: its stream ends, the browser reconnects by itself and reads the
queue afresh, which costs less than holding notices for a page that is not reading. Several daemons over one
database each keep a :class:`LocalFeed` and relay to it what the others' hints say (:meth:`LocalFeed.relay`): an
incident that changed through another daemon reaches this daemon's pages as if it had changed here.

While a page listens, its stream also sweeps the presence registry every :data:`SWEEP_SECONDS`, so a person whose
page closed without a word stops being shown even when nobody else's page is beating.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from engine.api import ChangeFeed, IncidentNotice, PresenceNotice
from engine.api._context import ApiContext, Context
from engine.desk._presence import others_on, registry_of, tidy
from engine.desk._session import Visitor
from engine.service import Change

__all__ = ["HEARTBEAT_SECONDS", "SWEEP_SECONDS", "LocalFeed", "live_router"]

Notice = IncidentNotice | PresenceNotice

#: A comment line this often keeps proxies from closing a quiet stream, and tells the page it is still live.
HEARTBEAT_SECONDS = 15.0
#: How often a listening page's stream sweeps out presence whose beats stopped.
SWEEP_SECONDS = 5.0
#: Notices a listener may have unread before it is dropped: far more than a page reads between two events.
BACKLOG = 256


class _Listener:
    """One page's notices: a bounded queue on the event loop the page is read from."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int, gone: Callable[[_Listener], None]) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Notice | None] = asyncio.Queue(capacity)
        self._gone = gone
        self.dropped = False
        self._closed = False

    def offer(self, notice: Notice) -> None:
        """From any thread: hand the notice to the listener's loop; never waits."""
        try:
            self._loop.call_soon_threadsafe(self._put, notice)
        except RuntimeError:  # the loop has closed: the page is gone
            self._end()

    def _put(self, notice: Notice) -> None:
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

    async def __aiter__(self) -> AsyncIterator[Notice]:
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
        self._offer(IncidentNotice.of(change))

    def publish_presence(self, incident_id: str) -> None:
        self._offer(PresenceNotice(incident_id))

    def relay(self, notice: Notice) -> None:
        """A notice from another daemon on the same database (its hint): to this daemon's pages, like its own."""
        self._offer(notice)

    def _offer(self, notice: Notice) -> None:
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


def _presence_event(request: Request, context: ApiContext, seen: Visitor, notice: PresenceNotice) -> ServerSentEvent:
    """Who is on the incident now, as ``seen`` is shown them (never themselves)."""
    present = others_on(request, context, seen, notice.incident)
    return ServerSentEvent(data=json.dumps({"incident": notice.incident, "present": present}), event="presence")


def _sweep(request: Request, context: ApiContext) -> None:
    registry = registry_of(request)
    if registry is not None:
        tidy(registry, context.roster, context.clock())


def live_router(
    signed_in: Callable[..., Any], heartbeat: float = HEARTBEAT_SECONDS, sweep: float = SWEEP_SECONDS
) -> APIRouter:
    """``GET /desk/events`` for the people ``signed_in`` lets through (the desk's session dependency), a heartbeat
    comment every ``heartbeat`` seconds and the presence registry swept every ``sweep`` seconds."""
    router = APIRouter(include_in_schema=False)

    # The page's person, for the presence it is shown: a default, since an annotation (a string, read later) could
    # not name this function's argument.
    person = Depends(signed_in)

    @router.get("/desk/events")
    async def events(request: Request, context: Context, seen: Visitor = person) -> EventSourceResponse:
        feed: ChangeFeed | None = context.feed
        subscription = feed.subscribe() if feed is not None else None

        async def stream() -> AsyncIterator[ServerSentEvent]:
            # The first line says the stream is open, so the page clears its "not live" banner at once.
            yield ServerSentEvent(comment="live")
            if subscription is None:  # a daemon without a feed: heartbeats only, never an event
                await asyncio.Event().wait()
                return
            notices = aiter(subscription)
            waiting: asyncio.Future[Notice | None] | None = None
            loop = asyncio.get_running_loop()
            due = loop.time() + sweep
            try:
                while True:
                    # The next notice is awaited across sweeps, never cancelled: cancelling would end the listener.
                    waiting = waiting or asyncio.ensure_future(anext(notices, None))
                    done, _ = await asyncio.wait({waiting}, timeout=max(0.0, due - loop.time()))
                    if loop.time() >= due:  # on time however busy the feed is
                        due = loop.time() + sweep
                        await run_in_threadpool(_sweep, request, context)
                    if not done:
                        continue
                    notice, waiting = waiting.result(), None
                    if notice is None:
                        return
                    if isinstance(notice, PresenceNotice):
                        yield await run_in_threadpool(_presence_event, request, context, seen, notice)
                    else:
                        yield _event(notice)
            finally:
                if waiting is not None:
                    waiting.cancel()
                subscription.close()

        return EventSourceResponse(stream(), ping=heartbeat, headers={"Cache-Control": "no-store"})

    return router
