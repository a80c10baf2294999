"""Performance figures for calmly, each beside a baseline measured in the same run (``make bench``).

The machines this runs on are noisy, so every figure is the median of repeated runs and is reported as a ratio to
its baseline, never as a pass or fail:

* validating the shipped playbooks plus generated variants, one process over the whole folder, per playbook:
  ``calmly validate DIR --format json`` beside ``bench/schema_check.py`` (PyYAML's C loader plus jsonschema, what
  an author would run instead), and for context beside ``check-jsonschema --schemafile schemas/playbook.schema.json
  FILES`` (which reads YAML in pure Python);
* the same work in-process and warm, per playbook: :func:`engine.playbook.load` beside PyYAML plus the JSON Schema
  alone (context: how much calmly's strict reading and semantic checks cost on top of the bare schema check);
* the cold start of ``calmly validate`` on one file, beside a bare ``python -c pass`` and beside
  ``python -c "import yaml, jsonschema"`` from the same virtual environment, with every module's byte code compiled
  first (``python -m compileall``), as an installed package has it;
* the incident runtime (``bench/runtime.py``): a state-changing action through ``step`` beside a bare
  ``transitions`` trigger (the average command beside it and beside a dict lookup, for context), and the build time
  of 100,000 open incidents beside the same fields as plain dicts;
* the daemon (``bench/intake.py``, ``bench/daemon.py``): intake through the store beside raw ``sqlite3`` making the
  same statements, HTTP actions beside ``GET /healthz`` on the same ``calmly serve``, and with 100,000
  open incidents (2,000 with ``--quick``) deadline lateness, resident memory and the time from start to ready, each
  beside the same daemon over an empty store;
* intake through the PostgreSQL store (``bench/postgresql.py``) beside raw psycopg replaying the same statements,
  and beside the SQLite store, where ``CALMLY_BENCH_POSTGRES_URL`` (or ``CALMLY_TEST_POSTGRES_URL``) names a
  database (left out, and said so, elsewhere);
* several daemons on one PostgreSQL database (``bench/postgresql_daemons.py``, with wrk and a database): HTTP intake,
  one mention a request from 12 connections shared out between the daemons, with two and with three daemons beside
  one, and one beside one daemon over SQLite under the same clients, every acknowledged mention counted in the store
  after each run;
* many open incidents in PostgreSQL (``bench/postgresql_open.py``, where a database is given): deadline lateness p99
  and start to ready with 1,000,000 open incidents (20,000 with ``--quick``), each beside the same daemon over an
  empty PostgreSQL store;
* grouping and surge detection during a replayed burst (``bench/grouping.py``): 10,000 outage complaints (1,000
  with ``--quick``) within one simulated minute through intake, one a transaction, under ``service-outage`` with
  its ``group`` and ``surges`` (one incident gathers them all and surges) beside the same burst under the same
  playbook without them (each opens an incident), per mention;
* HTTP intake under load (``bench/surge.py``, with wrk): ``POST /v1/mentions``, one mention a request, at 1, 4, 16
  and 64 connections, beside a minimal FastAPI + SQLite app (``bench/minimal_app.py``) doing one insert a request on
  the same uvicorn settings, taking turns; and batches of 100 mentions beside the minimal app storing the same
  batches (left out, and said so, when wrk is not installed);
* a burst of deadlines (``bench/burst.py``): 10,000 (2,000 with ``--quick``) due within 2 s on ``calmly serve``,
  their lateness beside deadlines spread out, and intake's latency meanwhile beside intake with none due;
* the desk (``bench/desk.py``): with 100,000 open incidents (2,000 with ``--quick``) the queue page ``GET /``,
  unfiltered and filtered to ``severity=high``, beside ``GET /v1/incidents`` with the same filter (server time, from
  the daemon's request histogram); a mention's ``incident`` event on ``GET /desk/events`` after the
  ``POST /v1/mentions`` answer, p50 and p99, beside the POST's round trip; and the daemon's resident memory per
  connected queue client (100; 20 with ``--quick``) beside its idle resident memory;
* what must cost the same at any size (``bench/scale.py``): ``GET /metrics``, ``GET /readyz`` and start to ready
  with 1,000,000 open incidents beside 10,000 (20,000 beside 2,000 with ``--quick``), and a reply joining a thread
  of 9,000 and more beside the first replies to it (10,000 replies; 1,000 with ``--quick``);
* the behavioural diff (``bench/diff.py``): ``calmly diff`` of 100,000 recorded incidents (5,000 with ``--quick``)
  over a pool of one process per core, beside replaying them through one playbook with bare ``step``.

The variants are generated into a temporary folder from whatever ``playbooks/*.yaml`` holds: each gets a new id and
version and a different number of extra roles, states, transitions, severity rules and escalation steps (they are
read by YAML 1.2 rules with ruamel.yaml, which check-jsonschema brings, and written with PyYAML). Every file must load
without errors before anything is timed, and every timed run of either tool must accept every file; the run fails
loudly otherwise, and exits 1.

Usage: ``python bench/run.py [--quick] [--json PATH] [--only SECTION ...] [--list]``. ``--only`` measures the
sections named and no others, as the whole run takes over 20 minutes (``--list`` names the sections, in the order
they run; ``make bench ONLY="postgresql-daemons postgresql-open"`` passes them through make).
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from engine._compiled import describe as describe_runtime
from engine.playbook import LIFECYCLE, load

from burst import burst_figures
from daemon import DaemonRepeats, daemon_figures  # bench/ is on sys.path when this runs as a script
from deliveries import delivery_figures
from desk import DeskRepeats, desk_figures
from diff import diff_figure
from durability import durability_figure
from figure import BenchError, Figure, in_process_median
from grouping import GroupingRepeats, grouping_figure
from intake import ingest_figure
from postgresql import postgres_url, postgresql_figures
from postgresql_daemons import DaemonsRepeats, postgresql_daemons_figures
from postgresql_open import PostgresOpenRepeats, postgresql_open_figures
from report import report_figure
from runtime import build_figures, python_runtime_figure, step_figures
from scale import ScaleRepeats, scale_figures
from surge import SurgeRepeats, surge_figures, wrk

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"
SCHEMA = Path("schemas") / "playbook.schema.json"  # relative to ROOT, where every command runs
SCHEMA_CHECK = Path(__file__).resolve().with_name("schema_check.py")
COLD_START_FILE = Path("playbooks") / "customer-complaint.yaml"
VARIANTS = 100
COLD_START_TARGET_S = 0.3
VALIDATE_TARGET_RATIO = 1.0
#: The lifecycle state the generated side states hang off; every valid playbook has it (rule E400).
ANCHOR_STATE = LIFECYCLE[1]


@dataclass(frozen=True, slots=True)
class Repeats:
    """How many times each measurement is repeated; figures are medians over these."""

    process: int
    in_process: int
    cold_start: int
    incidents: int  # how many open incidents the memory figure holds
    daemon: DaemonRepeats  # the daemon's figures (bench/daemon.py)
    surge: SurgeRepeats  # HTTP intake under load beside the minimal app (bench/surge.py)
    desk: DeskRepeats  # the desk's figures (bench/desk.py)
    scale: ScaleRepeats  # what must cost the same at any size (bench/scale.py)
    grouping: GroupingRepeats  # a replayed burst with grouping and surges, beside it without (bench/grouping.py)
    postgresql_daemons: DaemonsRepeats  # several daemons on one PostgreSQL database (bench/postgresql_daemons.py)
    postgresql_open: PostgresOpenRepeats  # many open incidents in PostgreSQL (bench/postgresql_open.py)
    reports: int  # how many closed incidents calmly report reads (bench/report.py)
    diffs: int  # how many recorded incidents calmly diff replays (bench/diff.py)
    variants: int = VARIANTS  # how many generated playbooks the validate figures read beside the shipped ones


FULL = Repeats(
    process=5,
    in_process=5,
    cold_start=15,
    incidents=100_000,
    daemon=DaemonRepeats(mentions=5_000, requests=2_000, open_incidents=100_000, rounds=3),
    surge=SurgeRepeats(seconds=2, rounds=3, batch=100),
    desk=DeskRepeats(open_incidents=100_000, pages=3, mentions=300, clients=100),
    scale=ScaleRepeats(small=10_000, large=1_000_000, requests=50, replies=10_000),
    grouping=GroupingRepeats(mentions=10_000, rounds=3),
    postgresql_daemons=DaemonsRepeats(seconds=5, rounds=3),
    postgresql_open=PostgresOpenRepeats(open_incidents=1_000_000, rounds=3),
    reports=100_000,
    diffs=100_000,
)
QUICK = Repeats(
    process=1,
    in_process=2,
    cold_start=5,
    incidents=10_000,
    daemon=DaemonRepeats(mentions=500, requests=200, open_incidents=2_000, rounds=1),
    surge=SurgeRepeats(seconds=1, rounds=1, batch=100),
    desk=DeskRepeats(open_incidents=2_000, pages=3, mentions=50, clients=20),
    scale=ScaleRepeats(small=2_000, large=20_000, requests=10, replies=1_000),
    grouping=GroupingRepeats(mentions=1_000, rounds=1),
    postgresql_daemons=DaemonsRepeats(seconds=1, rounds=1),
    postgresql_open=PostgresOpenRepeats(open_incidents=20_000, rounds=0),
    reports=5_000,
    diffs=2_000,
    variants=20,
)


# --- generated variants -------------------------------------------------------------------------------------


#: Plain scalars that YAML 1.2 (calmly, editors, check-jsonschema) reads as null, a boolean or a number. PyYAML
#: writes by YAML 1.1 rules, which leaves some of these unquoted (0o17, 1e3), so text like this is quoted explicitly.
_NOT_TEXT_IN_YAML_1_2 = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """PyYAML's safe dumper without anchors and aliases, which playbooks may not use."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: Any, text: str) -> Any:
    style = '"' if _NOT_TEXT_IN_YAML_1_2.match(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


@dataclass(frozen=True, slots=True)
class Base:
    """A shipped playbook the variants are made from: its leading comments (the editor modeline) and its data."""

    name: str
    header: str
    data: dict[str, Any]


def read_base(path: Path) -> Base:
    """Read a playbook by YAML 1.2 rules (as calmly and check-jsonschema do) into plain data."""
    text = path.read_text(encoding="utf-8")
    header = "".join(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines(keepends=True)))
    data = YAML(typ="safe", pure=True).load(text)
    if not isinstance(data, dict):
        raise BenchError(f"{path.name} does not hold a mapping at the top level")
    return Base(path.name, header, data)


def _fresh(prefix: str, taken: set[str]) -> Iterator[str]:
    """Names starting with ``prefix`` that ``taken`` does not hold yet (each one added to it)."""
    number = 0
    while True:
        number += 1
        name = f"{prefix}_{number}"
        if name not in taken:
            taken.add(name)
            yield name


def _percent(text: Any) -> float:
    return float(str(text).rstrip("%"))


def _retag(doc: dict[str, Any], index: int) -> None:
    doc["playbook"] = f"{str(doc['playbook'])[:56]}-v{index:03d}"
    doc["version"] = int(doc["version"]) + index + 1


def _add_roles(doc: dict[str, Any], count: int) -> list[str]:
    names = _fresh("bench_role", set(doc["roles"]))
    added = [next(names) for _ in range(count)]
    for name in added:
        doc["roles"][name] = {"description": f"A generated role ({name}) for the benchmark."}
    return added


def _add_side_states(doc: dict[str, Any], roles: Sequence[str]) -> None:
    """One limited state per role, reached from and returning to the anchor state, so all stay reachable."""
    states = _fresh("bench_state", set(doc["states"]))
    triggers = _fresh("bench_action", {str(step["trigger"]) for step in doc["transitions"]})
    for role in roles:
        state = next(states)
        doc["states"][state] = {"description": f"Parked by {role}.", "limit": {"default": "4h"}}
        doc["transitions"].append(
            {"trigger": next(triggers), "from": ANCHOR_STATE, "to": state, "by": [role], "requires": ["note"]}
        )
        doc["transitions"].append({"trigger": next(triggers), "from": state, "to": ANCHOR_STATE, "by": [role]})


def _add_severity_rules(doc: dict[str, Any], count: int, index: int) -> None:
    severity = doc["severity"]
    if "rules" not in severity:
        severity["rules"] = []
    top = severity["levels"][-1]
    for number in range(count):
        phrase = f"benchmark phrase {index} {number}"
        severity["rules"].append({"level": top, "when": {"keywords_any": [phrase, f"{phrase} again"]}})


def _add_escalation(doc: dict[str, Any], roles: Sequence[str], count: int) -> None:
    """Steps later than every existing one (thresholds must increase), notifying the generated roles."""
    if "escalation" not in doc:
        doc["escalation"] = []
    latest = max((_percent(step["after"]) for step in doc["escalation"]), default=100.0)
    for number in range(count):
        after = int(latest) + 50 * (number + 1)
        notify = list(roles[number::count])
        doc["escalation"].append({"after": f"{after}%", "notify": notify, "description": "A generated step."})


def variant(base: Base, index: int) -> str:
    """The text of ``base`` with a new id and version and 1 to 10 extras of each kind, varying with ``index``."""
    doc = copy.deepcopy(base.data)
    extra = 1 + index % 10
    _retag(doc, index)
    roles = _add_roles(doc, extra)
    _add_side_states(doc, roles)
    _add_severity_rules(doc, extra, index)
    _add_escalation(doc, roles, min(1 + index % 3, extra))
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=120, allow_unicode=True)
    return base.header + body


def _shipped() -> list[Path]:
    found = sorted(PLAYBOOKS.glob("*.yaml"))
    if not found:
        raise BenchError(f"no playbooks (*.yaml) in {PLAYBOOKS}")
    return found


def _require_valid(path: Path, what: str) -> None:
    result = load(path.read_bytes(), path.as_posix())
    if result.errors:
        detail = "\n".join(f"  {p.line}:{p.column} {p.code} {p.message}" for p in result.errors)
        raise BenchError(f"{what} {path.name} does not load without errors:\n{detail}")


def build_corpus(folder: Path, variants: int = VARIANTS) -> list[Path]:
    """The shipped playbooks and ``variants`` generated ones, written to ``folder``; every one must load cleanly."""
    shipped = _shipped()
    for path in shipped:
        _require_valid(path, "the shipped playbook")
        shutil.copyfile(path, folder / path.name)
    bases = [read_base(path) for path in shipped]
    for index in range(variants):
        base = bases[index % len(bases)]
        target = folder / f"bench-variant-{index:03d}-{base.name}"
        target.write_text(variant(base, index), encoding="utf-8")
        _require_valid(target, "the generated variant")
    return sorted(folder.glob("*.yaml"))


# --- measuring ----------------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    """A command from the same virtual environment as this interpreter (else from PATH)."""
    sibling = Path(sys.executable).with_name(name)
    found = str(sibling) if sibling.exists() else shutil.which(name)
    if found is None:
        raise BenchError(f"{name} is not installed next to {sys.executable} nor on PATH (pip install -e '.[dev]')")
    return found


def _accept(_: bytes) -> None:
    """Exit status 0 is all a command needs to count."""


@dataclass(frozen=True, slots=True)
class Command:
    """A process to time: it must exit 0, and ``verify`` may check its standard output too."""

    argv: Sequence[str]
    verify: Callable[[bytes], None] = _accept

    def shown(self) -> str:
        words = [Path(self.argv[0]).name, *self.argv[1:4]]
        return " ".join(words) + (" ..." if len(self.argv) > 4 else "")


def _wall(command: Command) -> float:
    """Wall time of one fresh process; a run that fails is an error, never a figure."""
    start = time.perf_counter()
    done = subprocess.run(command.argv, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode("utf-8", errors="replace")[-2000:]
        raise BenchError(f"`{command.shown()}` exited {done.returncode}:\n{output}")
    command.verify(done.stdout)
    return elapsed


def interleaved_medians(commands: dict[str, Command], runs: int) -> dict[str, float]:
    """Median wall time of each command. Runs alternate between the commands, rotating their order, so drift in
    the machine's load falls on all of them alike."""
    samples: dict[str, list[float]] = {key: [] for key in commands}
    keys = list(commands)
    for round_number in range(runs):
        shift = round_number % len(keys)
        for key in keys[shift:] + keys[:shift]:
            samples[key].append(_wall(commands[key]))
    return {key: statistics.median(values) for key, values in samples.items()}


# --- the figures --------------------------------------------------------------------------------------------


def _all_valid(count: int) -> Callable[[bytes], None]:
    """A check that calmly's JSON report covers ``count`` files and finds no error in any of them."""

    def verify(stdout: bytes) -> None:
        summary = json.loads(stdout).get("summary", {})
        if summary.get("files") != count or summary.get("errors") != 0:
            raise BenchError(f"calmly should report {count} files and no errors, but reported {summary}")

    return verify


def validate_figures(folder: Path, files: Sequence[Path], repeats: Repeats) -> list[Figure]:
    """calmly beside the fair baseline and beside check-jsonschema, whole processes over the same files; every
    timed run of each must accept every file."""
    calmly = Command([_tool("calmly"), "validate", str(folder), "--format", "json"], _all_valid(len(files)))
    fair = Command([sys.executable, str(SCHEMA_CHECK), str(SCHEMA), *map(str, files)])
    reference = Command([_tool("check-jsonschema"), "--schemafile", str(SCHEMA), *map(str, files)])
    commands = {"calmly": calmly, "fair": fair, "reference": reference}
    medians = {key: value * 1000 / len(files) for key, value in interleaved_medians(commands, repeats.process).items()}
    over = f"one process each over the same {len(files)} files"
    return [
        Figure(
            key="validate_process_ms_per_playbook",
            name="validate, whole process, per playbook",
            unit="ms",
            value=medians["calmly"],
            baseline_name="PyYAML C loader + jsonschema",
            baseline=medians["fair"],
            target=f"<= {VALIDATE_TARGET_RATIO:.2f}x",
            met=medians["calmly"] / medians["fair"] <= VALIDATE_TARGET_RATIO,
            detail=f"calmly validate DIR --format json vs python bench/schema_check.py (yaml.CSafeLoader and "
            f"Draft202012Validator) {SCHEMA.as_posix()} FILES, {over}",
        ),
        Figure(
            key="validate_process_ms_per_playbook_vs_check_jsonschema",
            name="validate, whole process, per playbook",
            unit="ms",
            value=medians["calmly"],
            baseline_name="check-jsonschema",
            baseline=medians["reference"],
            target="- (context)",
            met=None,
            detail=f"calmly validate DIR --format json vs check-jsonschema --schemafile {SCHEMA.as_posix()} FILES "
            f"(it reads YAML in pure Python), {over}",
        ),
    ]


def load_figure(files: Sequence[Path], repeats: Repeats) -> Figure:
    """engine.playbook.load in-process and warm, beside PyYAML plus the JSON Schema alone on the same bytes."""
    contents = [(path.read_bytes(), path.as_posix()) for path in files]
    validator = Draft202012Validator(json.loads((ROOT / SCHEMA).read_text(encoding="utf-8")))
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the fast safe loader calmly's reader uses too

    def calmly(batch: Sequence[tuple[bytes, str]] = contents) -> None:
        for content, source in batch:
            load(content, source)

    def reference(batch: Sequence[tuple[bytes, str]] = contents) -> None:
        for content, _ in batch:
            list(validator.iter_errors(yaml.load(content, Loader=loader)))

    calmly(contents[:2])
    reference(contents[:2])
    value = in_process_median(calmly, repeats.in_process) * 1000 / len(files)
    baseline = in_process_median(reference, repeats.in_process) * 1000 / len(files)
    return Figure(
        key="load_in_process_ms_per_playbook",
        name="engine.playbook.load, warm, per playbook",
        unit="ms",
        value=value,
        baseline_name="PyYAML + jsonschema",
        baseline=baseline,
        target="- (context)",
        met=None,
        detail="in-process over the same files: load(bytes, source) vs yaml.load(CSafeLoader) + "
        "Draft202012Validator.iter_errors",
    )


def _compile_all() -> None:
    """Byte code for calmly and everything it imports, as pip leaves an installed package (an editable install
    compiles nothing, and with PYTHONDONTWRITEBYTECODE set the processes would never cache it)."""
    command = [sys.executable, "-m", "compileall", "-q", str(ROOT / "engine")]
    engine = subprocess.run(command, capture_output=True, check=False)
    if engine.returncode != 0:
        output = (engine.stdout + engine.stderr).decode("utf-8", errors="replace")[-2000:]
        raise BenchError(f"python -m compileall engine/ failed before the cold start:\n{output}")
    # Some packages ship files that are not meant to compile (test data, other Pythons' code): what compiles is
    # what an install compiles too, so a failure there is no reason to stop.
    installed = sorted({path for path in sys.path if path.endswith("site-packages")})
    subprocess.run([sys.executable, "-m", "compileall", "-q", *installed], capture_output=True, check=False)


def cold_start_figures(repeats: Repeats) -> list[Figure]:
    """Fresh processes: calmly on one file, beside the bare interpreter and the interpreter importing its parsers."""
    if not (ROOT / COLD_START_FILE).is_file():
        raise BenchError(f"{COLD_START_FILE.as_posix()}, the file the cold start is measured on, is missing")
    python = sys.executable
    _compile_all()
    commands = {
        "calmly": Command([_tool("calmly"), "validate", COLD_START_FILE.as_posix()]),
        "bare": Command([python, "-c", "pass"]),
        "imports": Command([python, "-c", "import yaml, jsonschema"]),
    }
    medians = interleaved_medians(commands, repeats.cold_start)
    met = medians["calmly"] < COLD_START_TARGET_S
    target = f"< {COLD_START_TARGET_S:.2f} s"
    detail = (
        f"median wall time of fresh processes: calmly validate {COLD_START_FILE.as_posix()}; every module's byte "
        "code compiled first (python -m compileall over engine/ and the environment's site-packages), as a user's "
        "install has it"
    )
    baselines = [
        ("cold_start_s_vs_bare_python", "bare", "python -c pass"),
        ("cold_start_s_vs_yaml_jsonschema_import", "imports", "python -c 'import yaml, jsonschema'"),
    ]
    return [
        Figure(key, "cold start, validate 1 file", "s", medians["calmly"], label, medians[base], target, met, detail)
        for key, base, label in baselines
    ]


# --- reporting ----------------------------------------------------------------------------------------------


def _amount(value: float, unit: str) -> str:
    return f"{value:.3f} {unit}" if unit == "s" else f"{value:.2f} {unit}"


def table(figures: Sequence[Figure]) -> str:
    """The figures as an aligned text table, one line each."""
    rows = [("figure", "value", "baseline (same run)", "ratio", "target")]
    for figure in figures:
        verdict = "" if figure.met is None else (": met" if figure.met else ": NOT met")
        rows.append(
            (
                figure.name,
                _amount(figure.value, figure.unit),
                f"{_amount(figure.baseline, figure.unit)}  {figure.baseline_name}",
                f"{figure.ratio:.2f}x",
                figure.target + verdict,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _notes(figures: Sequence[Figure]) -> str:
    details = dict.fromkeys(f"  {figure.name}: {figure.detail}" for figure in figures)
    return "\n".join(["ratio = value / baseline; lower is better.", *details])


def _meta(shipped: int, repeats: Repeats, quick: bool) -> dict[str, Any]:
    return {
        "playbooks": shipped + repeats.variants,
        "shipped": shipped,
        "generated_variants": repeats.variants,
        "quick": quick,
        "repeats": {
            "process": repeats.process,
            "in_process": repeats.in_process,
            "cold_start": repeats.cold_start,
            "incidents": repeats.incidents,
            "daemon": {
                "mentions": repeats.daemon.mentions,
                "requests": repeats.daemon.requests,
                "open_incidents": repeats.daemon.open_incidents,
                "rounds": repeats.daemon.rounds,
            },
            "surge": {
                "seconds": repeats.surge.seconds,
                "rounds": repeats.surge.rounds,
                "batch": repeats.surge.batch,
            },
            "desk": {
                "open_incidents": repeats.desk.open_incidents,
                "pages": repeats.desk.pages,
                "mentions": repeats.desk.mentions,
                "clients": repeats.desk.clients,
            },
            "scale": {
                "small": repeats.scale.small,
                "large": repeats.scale.large,
                "requests": repeats.scale.requests,
                "replies": repeats.scale.replies,
            },
            "grouping": {"mentions": repeats.grouping.mentions, "rounds": repeats.grouping.rounds},
            "postgresql_daemons": {
                "seconds": repeats.postgresql_daemons.seconds,
                "rounds": repeats.postgresql_daemons.rounds,
            },
            "postgresql_open": {
                "open_incidents": repeats.postgresql_open.open_incidents,
                "rounds": repeats.postgresql_open.rounds,
            },
            "reports": repeats.reports,
            "diffs": repeats.diffs,
        },
        "statistic": "median",
        "python": platform.python_version(),
        "runtime": describe_runtime(),
        "cpus": os.cpu_count(),
        "pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        "wrk": wrk(),
        "postgresql": postgres_url() is not None,
    }


def _validate_section(repeats: Repeats, _: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="calmly-bench-") as tmp:
        folder = Path(tmp)
        files = build_corpus(folder, repeats.variants)
        return [*validate_figures(folder, files, repeats), load_figure(files, repeats)]


def _runtime_section(repeats: Repeats) -> list[Figure]:
    steps = step_figures(repeats.in_process)
    on_python = python_runtime_figure(repeats.in_process, steps[0])
    return [steps[0], *on_python, *steps[1:], *build_figures(repeats.incidents)]


def _surge_section(repeats: Repeats, _: bool) -> list[Figure]:
    return surge_figures(repeats.surge) if wrk() is not None else []


#: Every section of the bench in the order it runs, by the name ``--only`` takes.
SECTIONS: dict[str, Callable[[Repeats, bool], list[Figure]]] = {
    "validate": _validate_section,
    "cold-start": lambda repeats, _: cold_start_figures(repeats),
    "runtime": lambda repeats, _: _runtime_section(repeats),
    "intake": lambda repeats, _: [ingest_figure(repeats.daemon)],
    "postgresql": lambda repeats, _: postgresql_figures(repeats.daemon),
    "postgresql-daemons": lambda repeats, _: postgresql_daemons_figures(repeats.postgresql_daemons),
    "postgresql-open": lambda repeats, _: postgresql_open_figures(repeats.postgresql_open),
    "grouping": lambda repeats, _: [grouping_figure(repeats.grouping)],
    "durability": lambda repeats, _: [durability_figure(repeats.daemon)],
    "daemon": lambda repeats, _: daemon_figures(repeats.daemon),
    "surge": _surge_section,
    "deliveries": lambda _, quick: delivery_figures(quick),
    "burst": lambda _, quick: burst_figures(quick),
    "desk": lambda repeats, _: desk_figures(repeats.desk),
    "scale": lambda repeats, _: scale_figures(repeats.scale),
    "report": lambda repeats, quick: [report_figure(repeats.reports, 1 if quick else 3)],
    "diff": lambda repeats, quick: [diff_figure(repeats.diffs, 1 if quick else 3)],
}


def measure(repeats: Repeats, quick: bool, only: Sequence[str] = ()) -> tuple[list[Figure], dict[str, Any]]:
    """Time every section (or only those named), each cleaning up after itself."""
    chosen = [name for name in SECTIONS if not only or name in only]
    figures: list[Figure] = []
    for name in chosen:
        figures.extend(SECTIONS[name](repeats, quick))
    meta = _meta(len(_shipped()), repeats, quick)
    meta["sections"] = chosen
    return figures, meta


def _header(meta: dict[str, Any]) -> str:
    repeats = meta["repeats"]
    cache = ""
    if meta["pythondontwritebytecode"]:
        cache = "; PYTHONDONTWRITEBYTECODE is set: the cold start compiles every module's byte code first"
    if meta["wrk"] is None:
        cache += "; wrk is not installed, so HTTP intake under load is left out (apt-get install wrk)"
        if meta["postgresql"]:
            cache += ", and with it several daemons on one PostgreSQL database"
    if not meta["postgresql"]:
        cache += (
            "; no CALMLY_BENCH_POSTGRES_URL (nor CALMLY_TEST_POSTGRES_URL), so the PostgreSQL figures (intake through "
            "its store, several daemons on one database, many open incidents in it) are left out"
        )
    if len(meta["sections"]) < len(SECTIONS):
        cache += f"; only {', '.join(meta['sections'])}"
    return (
        f"calmly bench{' (quick)' if meta['quick'] else ''}: {meta['playbooks']} playbooks ({meta['shipped']} shipped"
        f" + {meta['generated_variants']} generated); medians of {repeats['process']} process runs, "
        f"{repeats['in_process']} in-process runs, {repeats['cold_start']} cold starts; "
        f"python {meta['python']}, {meta['cpus']} CPUs; the incident runtime: {meta['runtime']}{cache}"
    )


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for tests (the figures are noisier)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="SECTION",
        default=[],
        help="measure only these sections (see --list), e.g. --only postgresql-daemons postgresql-open",
    )
    parser.add_argument("--list", action="store_true", help="list the sections, in the order they run, and exit")
    args = parser.parse_args(argv)
    unknown = [name for name in args.only if name not in SECTIONS]
    if unknown:
        parser.error(f"no section named {', '.join(unknown)}; the sections are: {', '.join(SECTIONS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    if args.list:
        print("\n".join(SECTIONS))
        return 0
    repeats = QUICK if args.quick else FULL
    try:
        figures, meta = measure(repeats, args.quick, args.only)
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    print(_header(meta), table(figures), _notes(figures), sep="\n\n")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"meta": meta, "figures": [figure.as_json() for figure in figures]}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
