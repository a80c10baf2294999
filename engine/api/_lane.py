"""The intake lane: one thread that takes the intake requests in turn, and those that came while it wrote the last
commit all together in the next one.

Requests in a surge would otherwise each take a thread of the pool and queue for the store's one writer: every
hand-over of the store between threads costs a wake-up and a wait for the interpreter lock, and every request pays
for a commit of its own. Here each request is read (its sender checked, its JSON read) in the lane's thread, and the
requests waiting at that moment are written in one unit of work (:meth:`engine.service.Service.ingest_together`), up
to :data:`GROUP_MENTIONS` mentions, so a request never waits behind more than one short group. The answers still
come only after the commit that holds them.

The thread starts with the first request and ends after a second with none, so an app built and dropped (as tests
do) leaves no thread behind for long.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from engine.service import IntakeResult, Sent, Service

__all__ = ["GROUP_MENTIONS", "IntakeLane"]

#: A group is closed once it holds this many mentions: a deadline due, or a person's action, waits for the store
#: behind one group at most.
GROUP_MENTIONS = 1000
#: How long the lane's thread waits for a request before it ends.
_IDLE_S = 1.0


@dataclass(frozen=True, slots=True)
class _Job:
    read: Callable[[], Sent]
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[list[IntakeResult]]

    def settle(self, outcome: list[IntakeResult] | BaseException) -> None:
        self.loop.call_soon_threadsafe(self._settle, outcome)

    def _settle(self, outcome: list[IntakeResult] | BaseException) -> None:
        if self.answer.done():  # the client went away; what was committed stays committed
            return
        if isinstance(outcome, BaseException):
            self.answer.set_exception(outcome)
        else:
            self.answer.set_result(outcome)


class IntakeLane:
    """Takes intake requests for ``service`` (see the module's text)."""

    def __init__(self, service: Callable[[], Service]) -> None:
        self._service = service
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    async def take(self, read: Callable[[], Sent]) -> list[IntakeResult]:
        """What became of the request's mentions, once committed. ``read`` (run in the lane's thread) checks the
        sender and reads the body: what it raises is raised here, and nothing of that request is written."""
        loop = asyncio.get_running_loop()
        job = _Job(read, loop, loop.create_future())
        self._jobs.put(job)
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="calmly-intake", daemon=True)
                self._worker.start()
        return await job.answer

    def _run(self) -> None:
        try:
            while True:
                try:
                    first = self._jobs.get(timeout=_IDLE_S)
                except queue.Empty:
                    with self._lock:
                        if self._jobs.empty():  # a request put after this sees no worker, and starts one
                            self._worker = None
                            return
                    continue
                self._serve(first)
        finally:  # however the thread ends, the next request starts another rather than wait for this one
            with self._lock:
                if self._worker is threading.current_thread():
                    self._worker = None

    def _serve(self, first: _Job) -> None:
        group: list[tuple[_Job, Sent]] = []
        mentions = 0
        job: _Job | None = first
        while job is not None:
            try:
                sent = job.read()
            except Exception as error:  # a refusal of this request alone (a bad token, malformed JSON)
                job.settle(error)
            else:
                group.append((job, sent))
                mentions += len(sent.items)
            job = None
            if mentions < GROUP_MENTIONS:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    job = None
        if not group:
            return
        try:
            outcomes = self._service().ingest_together([sent for _, sent in group])
        except Exception as error:  # the store failed: nothing of the group was written; each is told
            for waiting, _ in group:
                waiting.settle(error)
            return
        for (waiting, _), outcome in zip(group, outcomes, strict=True):
            waiting.settle(outcome)
