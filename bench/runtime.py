"""Figures for the incident runtime: what a command costs through ``step``, and building open incidents.

* Commands through ``step``: every command the shipped playbook tests produce (``examples/playbook-tests``: people
  acting, refused actions, deadlines falling due, mentions joining) is recorded once with the incident it met, then
  replayed through the pure ``step``. Beside it, in the same run: a bare ``transitions`` trigger on the same
  playbook's machine (``machine.events[trigger].trigger(obj)``) for each state-changing action in the workload, and
  a plain dict lookup of (trigger, state). The headline is the state-changing actions, each beside a trigger of the
  same transition: like for like, and they do the most work (field checks, the machine, clocks). Target: no more
  than 3 bare triggers. The average over every command is shown for context: most commands change no state.
* Building 100,000 open incidents (each with its running clocks: a state limit and two end-to-end targets, one
  counted in business hours) from stored rows, beside building the same fields as plain dicts. Target: under a
  second, with the cyclic garbage collector paused as a bulk load does it (with it running, each batch of
  allocations makes it walk everything built so far; that time is shown too). Opening 100,000 incidents from
  mentions through ``open_incident`` (matching, severity rules, starting clocks) is timed as context. (The daemon
  holds no open incidents in memory: its scheduler asks the store's index, so what a running daemon holds is
  measured on the daemon, beside one over an empty store: ``bench/daemon.py``.)
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import engine.service._firing
import engine.service._intake
import engine.service._service
from engine._compiled import running_compiled
from engine.authoring.testsuite import discover_tests, run_test_file
from engine.incident import (
    Act,
    ClockState,
    Command,
    Incident,
    Mention,
    Occurrence,
    Refused,
    Rulebook,
    open_incident,
    parse_mention,
    step,
)
from engine.playbook import Failed, compile_machine

from figure import BenchError, Figure, in_process_median

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "examples" / "playbook-tests"
STEP_TARGET_RATIO = 3.0
INCIDENTS = 100_000
BUILD_TARGET_S = 1.0
#: The playbook the memory figure opens incidents under: it has a business-hours calendar and two targets.
MEMORY_PLAYBOOK = ROOT / "playbooks" / "customer-complaint.yaml"


@dataclass(frozen=True, slots=True)
class Call:
    """One recorded call of ``step``, replayable because ``step`` is pure."""

    incident: Incident
    command: Command
    now: datetime
    book: Rulebook

    def changes_state(self) -> bool:
        if not isinstance(self.command, Act):
            return False
        outcome = step(self.incident, self.command, self.now, self.book)
        return not isinstance(outcome, Refused) and outcome.incident.state != self.incident.state


@contextmanager
def _recording(calls: list[Call]) -> Iterator[None]:
    """Record every ``step`` the simulation makes: it runs the daemon's service, whose intake, actions and fired
    deadlines each look ``step`` up in their own module."""
    modules = (engine.service._intake, engine.service._service, engine.service._firing)
    original = step

    def recorded(incident: Incident, command: Command, now: datetime, book: Rulebook) -> Any:
        calls.append(Call(incident, command, now, book))
        return original(incident, command, now, book)

    for module in modules:
        module.step = recorded  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in modules:
            module.step = original  # type: ignore[attr-defined]


def record_workload() -> list[Call]:
    """The commands the shipped playbook tests produce; every test must pass, or the workload is not the real one."""
    files = discover_tests([TESTS])
    if not files:
        raise BenchError(f"no playbook tests (*.test.yaml) in {TESTS}")
    calls: list[Call] = []
    with _recording(calls):
        for path in files:
            report = run_test_file(path)
            if not report.passed:
                raise BenchError(f"the playbook test {path.name} does not pass; run: calmly test {path}")
    if not any(call.changes_state() for call in calls):
        raise BenchError("the playbook tests take no action that changes a state")
    return calls


class _Proxy:
    """The bare baseline's object: what ``step`` fires the machine on, too."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _per_call_us(work: Callable[[], object], count: int, repeats: int) -> float:
    work()  # warm up: caches, calendars' year tables, the machine's event objects
    return in_process_median(work, repeats) * 1e6 / count


def step_figures(repeats: int) -> list[Figure]:
    calls = record_workload()
    transitions = [call for call in calls if call.changes_state()]
    # One machine per playbook version, as DESIGN.md's compiled machine: the rulebook keeps its own tables instead.
    machines = {call.book.playbook.digest: compile_machine(call.book.playbook) for call in transitions}
    pairs = [
        (machines[call.book.playbook.digest], call.command.trigger, call.incident.state)
        for call in transitions
        if isinstance(call.command, Act)
    ]
    table = {
        (trigger, state): call.book.transition(trigger, state)
        for call, (_, trigger, state) in zip(transitions, pairs, strict=True)
    }
    rounds = max(1, 20_000 // len(calls))

    def replay(batch: list[Call]) -> Callable[[], None]:
        def work() -> None:
            for _ in range(rounds):
                for call in batch:
                    step(call.incident, call.command, call.now, call.book)

        return work

    def bare() -> None:
        for _ in range(rounds):
            for machine, trigger, state in pairs:
                machine.events[trigger].trigger(_Proxy(state))

    def lookup() -> None:
        for _ in range(rounds):
            for _, trigger, state in pairs:
                table[(trigger, state)]

    every = _per_call_us(replay(calls), rounds * len(calls), repeats)
    acting = _per_call_us(replay(transitions), rounds * len(transitions), repeats)
    trigger = _per_call_us(bare, rounds * len(pairs), repeats)
    plain = _per_call_us(lookup, rounds * len(pairs), repeats)
    kinds = {
        kind: sum(type(call.command).__name__ == kind for call in calls)
        for kind in ("Act", "DeadlineReached", "JoinMention")
    }
    mix = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    target = f"<= {STEP_TARGET_RATIO:.1f}x"
    return [
        Figure(
            key="step_us_per_state_change_vs_bare_trigger",
            name="step, per state-changing action",
            unit="us",
            value=acting,
            baseline_name="bare transitions trigger",
            baseline=trigger,
            target=target,
            met=acting / trigger <= STEP_TARGET_RATIO,
            detail=f"the {len(transitions)} actions of the workload that change a state (roles, fields, the machine, "
            f"clocks stopped and started), each beside a bare trigger of the same transition: {1e6 / acting:,.0f}/s; "
            f"a bare trigger: {1e6 / trigger:,.0f}/s",
        ),
        Figure(
            key="step_us_per_command_vs_bare_trigger",
            name="step, per command (average)",
            unit="us",
            value=every,
            baseline_name="bare transitions trigger",
            baseline=trigger,
            target="- (context)",
            met=None,
            detail=f"{len(calls)} commands recorded from the shipped playbook tests ({mix}), replayed through step: "
            f"{1e6 / every:,.0f} commands/s; most change no state (deadlines falling due, refusals, joins), so the "
            f"average flatters step beside a trigger, which always moves one",
        ),
        Figure(
            key="step_us_per_command_vs_dict_lookup",
            name="step, per command (average)",
            unit="us",
            value=every,
            baseline_name="dict lookup (trigger, state)",
            baseline=plain,
            target="- (context)",
            met=None,
            detail="the floor: a plain dict transition table",
        ),
    ]


# --- memory ---------------------------------------------------------------------------------------------------


def _sample_mention() -> Mention:
    parsed = parse_mention(
        {
            "channel": "twitter",
            "external_id": "0",
            "text": "my order arrived broken",
            "author": {"handle": "@bench"},
            "posted_at": "2026-11-23T09:00:00Z",
        }
    )
    if isinstance(parsed, Failed):
        raise BenchError(f"the benchmark's mention is not valid: {parsed.problems[0].message}")
    return parsed


def _stored_fields(book: Rulebook, count: int) -> list[dict[str, Any]]:
    """What a store hands back for ``count`` open incidents: plain values, as rows would give them."""
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    sample = _sample_mention()
    template = open_incident("template", sample, book, start).incident
    if len(template.clocks) < 2:
        raise BenchError(f"{MEMORY_PLAYBOOK.name} should start several clocks on opening")
    rows = []
    for number in range(count):
        opened = start + timedelta(seconds=number)
        rows.append(
            {
                "id": f"inc-{number:06d}",
                "opened_at": opened,
                "author": f"@customer{number}",
                "external_id": str(1_860_000_000 + number),
                "clocks": [
                    (clock.name, opened, 0, clock.due_at + (opened - start), clock.next) for clock in template.clocks
                ],
            }
        )
    return rows


def _incident(row: dict[str, Any], book: Rulebook) -> Incident:
    opened = row["opened_at"]
    shift = opened - datetime(2026, 11, 23, 9, tzinfo=UTC)
    clocks = tuple(
        ClockState(
            name,
            started,
            epoch,
            due,
            None,
            None
            if following is None
            else Occurrence(following.offset, following.step, following.repetition, following.at + shift),
        )
        for name, started, epoch, due, following in row["clocks"]
    )
    playbook = book.playbook
    return Incident(
        id=row["id"],
        playbook=playbook.id,
        playbook_version=playbook.version,
        playbook_digest=playbook.digest,
        state="detected",
        severity="medium",
        channel="twitter",
        author=row["author"],
        opened_at=opened,
        entered_at=opened,
        last_mention_at=opened,
        clocks=clocks,
        mention_count=1,
    )


def _plain(row: dict[str, Any], book: Rulebook) -> dict[str, Any]:
    """The baseline: the same values in a dict per incident and a tuple per clock."""
    playbook = book.playbook
    return {
        "id": row["id"],
        "playbook": playbook.id,
        "playbook_version": playbook.version,
        "playbook_digest": playbook.digest,
        "state": "detected",
        "severity": "medium",
        "channel": "twitter",
        "author": row["author"],
        "opened_at": row["opened_at"],
        "entered_at": row["opened_at"],
        "last_mention_at": row["opened_at"],
        "clocks": [(name, started, epoch, due, following) for name, started, epoch, due, following in row["clocks"]],
        "mentions": [("twitter", row["external_id"])],
    }


@dataclass(frozen=True, slots=True)
class Built:
    paused_s: float  # building with the cyclic garbage collector paused, as a bulk load does
    running_s: float  # building with the collector running


def _timed_build(
    rows: list[dict[str, Any]], book: Rulebook, make: Callable[[dict[str, Any], Rulebook], object]
) -> float:
    gc.collect()
    started = time.perf_counter()
    built = [make(row, book) for row in rows]
    seconds = time.perf_counter() - started
    del built
    return seconds


def _build(rows: list[dict[str, Any]], book: Rulebook, make: Callable[[dict[str, Any], Rulebook], object]) -> Built:
    """Seconds to build one object per row, with the collector paused and running."""
    running = _timed_build(rows, book, make)
    gc.disable()
    try:
        paused = _timed_build(rows, book, make)
    finally:
        gc.enable()
    return Built(paused, running)


#: The headline measured again in a process of its own, which runs the Python runtime: a JSON pair on stdout.
_ON_PYTHON = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); from runtime import step_figures; "
    "figure = step_figures(int(sys.argv[2]))[0]; print(json.dumps([figure.value, figure.baseline]))"
)


def python_runtime_figure(repeats: int, headline: Figure) -> list[Figure]:
    """Where the headline was measured on the compiled runtime, the same on its Python source for context, in a
    process of its own (which runtime runs is decided once per process) beside its own bare trigger."""
    if not running_compiled():
        return []  # the headline is the Python runtime already
    done = subprocess.run(
        [sys.executable, "-c", _ON_PYTHON, str(Path(__file__).resolve().parent), str(repeats)],
        env={**os.environ, "CALMLY_PURE_PYTHON": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the step figure on the Python runtime failed: {done.stderr.strip()[-500:]}")
    value, baseline = json.loads(done.stdout.strip().splitlines()[-1])
    return [
        Figure(
            key="step_us_per_state_change_python_runtime",
            name="the same, Python runtime",
            unit="us",
            value=value,
            baseline_name="bare transitions trigger",
            baseline=baseline,
            target="- (context)",
            met=None,
            detail=f"the headline's workload with CALMLY_PURE_PYTHON=1, in a process of its own beside its own bare "
            f"trigger: {1e6 / value:,.0f}/s; the compiled runtime above takes {headline.value / value:.0%} of its "
            f"time",
        )
    ]


def build_figures(count: int = INCIDENTS) -> list[Figure]:
    from engine.files import load_file  # noqa: PLC0415 - only this figure needs a playbook from disk

    loaded = load_file(MEMORY_PLAYBOOK)
    if loaded.playbook is None:
        raise BenchError(f"{MEMORY_PLAYBOOK.name} does not load")
    book = Rulebook(loaded.playbook)
    rows = _stored_fields(book, count)
    incidents = _build(rows, book, _incident)
    plain = _build(rows, book, _plain)
    sample = _sample_mention()
    opened_at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    started = time.perf_counter()
    for number in range(count):
        open_incident(f"inc-{number}", sample, book, opened_at)
    open_s = time.perf_counter() - started
    return [
        Figure(
            key="build_s_open_incidents",
            name=f"build {count:,} open incidents",
            unit="s",
            value=incidents.paused_s,
            baseline_name="the same fields as plain dicts",
            baseline=plain.paused_s,
            target=f"< {BUILD_TARGET_S:.1f} s",
            met=incidents.paused_s < BUILD_TARGET_S,
            detail=f"from stored rows, as a bulk load does it: with the cyclic garbage collector paused (with it "
            f"running: {incidents.running_s:.2f} s, plain dicts {plain.running_s:.2f} s); opening {count:,} from "
            f"mentions through open_incident (matching, severity rules, clocks) took {open_s:.2f} s",
        ),
    ]
