"""The benchmark keeps running: ``bench/run.py --quick`` exits 0 and reports every figure with a positive value.

This guards against the benchmark rotting (a renamed API, a generated variant the language no longer accepts, a
figure dropped from the report). It asserts nothing about timings: those are noisy and are read by people, as ratios.
It stays in the default ``pytest`` run; ``--quick`` keeps it to a minute or two on a 2-core machine (most of it
real time the daemons' deadlines take to fall due), and the tests here share one run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine import _compiled

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "run.py"
#: Every figure the report must hold; a figure removed from the benchmark has to be removed here too, deliberately.
FIGURES = {
    "validate_process_ms_per_playbook",
    "validate_process_ms_per_playbook_vs_check_jsonschema",
    "load_in_process_ms_per_playbook",
    "cold_start_s_vs_bare_python",
    "cold_start_s_vs_yaml_jsonschema_import",
    "step_us_per_command_vs_bare_trigger",
    "step_us_per_state_change_vs_bare_trigger",
    "step_us_per_command_vs_dict_lookup",
    "build_s_open_incidents",
    "intake_us_per_mention_vs_raw_sqlite",
    "grouped_intake_us_per_mention_vs_ungrouped",
    "durable_intake_us_per_mention_full_vs_normal",
    "http_action_ms_per_request_vs_healthz",
    "deadline_lateness_p50_ms",
    "deadline_lateness_p99_ms",
    "daemon_rss_mb_open_incidents",
    "daemon_ready_s_open_incidents",
    "delivery_ms_vs_bare_post",
    "due_to_received_p50_ms",
    "due_to_received_p99_ms",
    "burst_lateness_p50_ms",
    "burst_lateness_p99_ms",
    "burst_intake_p50_ms",
    "burst_intake_p99_ms",
    "desk_queue_ms_vs_api_list",
    "desk_queue_high_ms_vs_api_list",
    "desk_event_after_answer_p50_ms",
    "desk_event_after_answer_p99_ms",
    "desk_kb_per_queue_client",
    "scale_metrics_ms",
    "report_s_closed_incidents_vs_plain_sql",
    "diff_s_recorded_incidents_vs_bare_step",
    "scale_readyz_ms",
    "scale_start_s",
    "scale_join_ms",
}
#: HTTP intake under load, measured with wrk: left out of the report, and said so, where wrk is not installed.
SURGE_FIGURES = {
    *(f"http_intake_ms_per_request_{connections}_connections_vs_minimal_app" for connections in (1, 4, 16, 64)),
    "http_intake_us_per_mention_batched_vs_minimal_app",
}
WRK = shutil.which("wrk")
#: The PostgreSQL figures: left out, and said so, where no database is given.
POSTGRES_FIGURES = {
    "intake_us_per_mention_postgresql_vs_raw_psycopg",
    "intake_us_per_mention_postgresql_vs_sqlite",
    "postgresql_deadline_lateness_p99_ms",
    "postgresql_daemon_ready_s_open_incidents",
}
#: Several daemons on one PostgreSQL database, driven by wrk: left out without a database or without wrk.
POSTGRES_DAEMON_FIGURES = {
    "postgresql_intake_us_per_mention_1_daemon_vs_sqlite",
    "postgresql_intake_us_per_mention_2_daemons_vs_1",
    "postgresql_intake_us_per_mention_3_daemons_vs_1",
}
POSTGRES = bool(os.environ.get("CALMLY_BENCH_POSTGRES_URL") or os.environ.get("CALMLY_TEST_POSTGRES_URL"))
#: Where the runtime is compiled, the headline step figure is measured on the Python runtime too, for context.
COMPILED = _compiled._state()[0] and not os.environ.get("CALMLY_PURE_PYTHON")
#: Only a guard against a hung run: the quick benchmark takes one to two minutes.
TIMEOUT_S = 600


def run_quick_bench(report: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(BENCH), "--quick", "--json", str(report)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


@dataclass(frozen=True)
class QuickBench:
    stdout: str
    report: dict[str, Any]

    def figure(self, key: str) -> dict[str, Any]:
        found: dict[str, Any] = next(figure for figure in self.report["figures"] if figure["key"] == key)
        return found


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory: pytest.TempPathFactory) -> QuickBench:
    """One quick run, read by every test here."""
    report = tmp_path_factory.mktemp("bench") / "bench.json"
    result = run_quick_bench(report)
    assert result.returncode == 0, result.stdout + result.stderr
    return QuickBench(result.stdout, json.loads(report.read_text(encoding="utf-8")))


def test_quick_bench_runs_and_reports_every_figure(quick_bench: QuickBench) -> None:
    data = quick_bench.report
    figures = {figure["key"]: figure for figure in data["figures"]}
    expected = FIGURES | (SURGE_FIGURES if WRK else set()) | (POSTGRES_FIGURES if POSTGRES else set())
    expected |= {"step_us_per_state_change_python_runtime"} if COMPILED else set()
    expected |= POSTGRES_DAEMON_FIGURES if POSTGRES and WRK else set()
    assert set(figures) == expected
    for key, figure in figures.items():
        for field in ("value", "baseline", "ratio"):
            assert figure[field] > 0, f"{key}.{field} = {figure[field]!r}"
        assert figure["name"] in quick_bench.stdout, f"{key} is missing from the printed table"
    assert data["meta"]["quick"] is True
    assert data["meta"]["generated_variants"] == 20
    assert data["meta"]["repeats"]["incidents"] == 10_000
    assert data["meta"]["repeats"]["daemon"]["open_incidents"] == 2_000
    assert data["meta"]["repeats"]["desk"] == {"open_incidents": 2_000, "pages": 3, "mentions": 50, "clients": 20}


def test_the_queue_page_is_reported_beside_the_api_list_with_the_same_filter(quick_bench: QuickBench) -> None:
    unfiltered = quick_bench.figure("desk_queue_ms_vs_api_list")
    high = quick_bench.figure("desk_queue_high_ms_vs_api_list")

    assert unfiltered["name"] == "queue page GET /, 2,000 open incidents"
    assert unfiltered["baseline_name"] == "GET /v1/incidents?open=true&limit=50"
    assert high["name"] == "queue page GET /, severity=high, 2,000 open incidents"
    assert high["baseline_name"] == "GET /v1/incidents?open=true&severity=high&limit=50"
    for figure in (unfiltered, high):
        assert figure["unit"] == "ms"
        assert figure["target"] == "<= 2.0x"
        assert isinstance(figure["target_met"], bool)


def test_the_queue_event_is_reported_beside_the_mention_round_trip_and_says_how_often_it_came_first(
    quick_bench: QuickBench,
) -> None:
    for label in ("p50", "p99"):
        figure = quick_bench.figure(f"desk_event_after_answer_{label}_ms")
        assert figure["name"] == f"mention answered to queue event, {label}"
        assert figure["baseline_name"] == f"POST /v1/mentions round trip, {label}"
        assert re.search(r"the event came first for \d+ of 50 ", figure["detail"]), figure["detail"]
    assert quick_bench.figure("desk_event_after_answer_p99_ms")["target"] == "< 200 ms"


def test_memory_per_queue_client_is_reported_beside_the_idle_daemon(quick_bench: QuickBench) -> None:
    figure = quick_bench.figure("desk_kb_per_queue_client")

    assert figure["name"] == "memory per connected queue client"
    assert figure["unit"] == "KB"
    assert figure["baseline_name"] == "the daemon's idle resident memory"
    assert "with 20 clients on GET /desk/events" in figure["detail"]


def test_what_must_not_grow_is_reported_beside_the_same_at_a_tenth_of_the_size(quick_bench: QuickBench) -> None:
    assert quick_bench.report["meta"]["repeats"]["scale"] == {
        "small": 2_000,
        "large": 20_000,
        "requests": 10,
        "replies": 1_000,
    }
    for key, name in (("metrics_ms", "GET /metrics"), ("readyz_ms", "GET /readyz"), ("start_s", "start to ready")):
        figure = quick_bench.figure(f"scale_{key}")
        assert figure["name"] == f"{name}, 20,000 open incidents"
        assert figure["baseline_name"] == "the same, 2,000 open incidents"
        assert figure["target"] == "<= 1.5x"
    joined = quick_bench.figure("scale_join_ms")
    assert joined["name"] == "a reply joining a thread of 900+ mentions"
    assert joined["baseline_name"] == "the first 100 replies to it"


@pytest.mark.skipif(WRK is None, reason="wrk is not installed (apt-get install wrk): intake under load is not measured")
def test_intake_under_load_is_reported_beside_the_minimal_app_at_each_number_of_connections(
    quick_bench: QuickBench,
) -> None:
    for connections in (1, 4, 16, 64):
        figure = quick_bench.figure(f"http_intake_ms_per_request_{connections}_connections_vs_minimal_app")
        assert figure["baseline_name"] == "minimal FastAPI + SQLite app"
        assert figure["target"] == "<= 2.0x (half its rate)"
        assert isinstance(figure["target_met"], bool)
        assert re.search(
            r"[\d,]+ requests/s .* the minimal app's POST /mentions, one insert and commit, [\d,]+/s", figure["detail"]
        ), figure["detail"]
    batched = quick_bench.figure("http_intake_us_per_mention_batched_vs_minimal_app")
    assert batched["name"] == "HTTP intake, batches of 100, per mention"
    assert batched["baseline_name"] == "minimal app, the same batches"
    assert quick_bench.report["meta"]["wrk"] == WRK


def test_the_report_says_when_intake_under_load_is_left_out_for_want_of_wrk(quick_bench: QuickBench) -> None:
    if WRK is not None:
        assert "wrk is not installed" not in quick_bench.stdout
    else:
        assert "wrk is not installed, so HTTP intake under load is left out (apt-get install wrk)" in quick_bench.stdout


@pytest.mark.skipif(not (POSTGRES and WRK), reason="needs CALMLY_TEST_POSTGRES_URL and wrk (apt-get install wrk)")
def test_two_and_three_daemons_on_one_postgresql_database_are_reported_beside_one(quick_bench: QuickBench) -> None:
    one = quick_bench.figure("postgresql_intake_us_per_mention_1_daemon_vs_sqlite")
    assert one["baseline_name"] == "1 daemon on SQLite, same clients"
    assert re.search(r"on PostgreSQL [\d,]+ mentions/s .*; on SQLite [\d,]+ mentions/s", one["detail"]), one["detail"]
    for count in (2, 3):
        figure = quick_bench.figure(f"postgresql_intake_us_per_mention_{count}_daemons_vs_1")
        assert figure["name"] == f"HTTP intake, {count} daemons on one PostgreSQL, per mention"
        assert figure["baseline"] == one["value"]
        assert figure["unit"] == "us"
        assert isinstance(figure["target_met"], bool)
        assert re.search(rf"{count} daemons [\d,]+ mentions/s .*; 1 daemon [\d,]+ mentions/s", figure["detail"])
        assert "every acknowledged mention counted in the store" in figure["detail"]
    assert quick_bench.report["meta"]["repeats"]["postgresql_daemons"] == {"seconds": 1, "rounds": 1}


@pytest.mark.skipif(not POSTGRES, reason="needs CALMLY_TEST_POSTGRES_URL: the PostgreSQL figures are not measured")
def test_many_open_incidents_in_postgresql_are_reported_beside_an_empty_postgresql_store(
    quick_bench: QuickBench,
) -> None:
    late = quick_bench.figure("postgresql_deadline_lateness_p99_ms")
    ready = quick_bench.figure("postgresql_daemon_ready_s_open_incidents")

    assert late["name"] == "deadline lateness p99, 20,000 open incidents in PostgreSQL"
    assert ready["name"] == "daemon start to ready, 20,000 open incidents in PostgreSQL"
    for figure in (late, ready):
        assert figure["baseline_name"] == "the same, empty PostgreSQL store"
        assert "20,000 open incidents copied by the server" in figure["detail"]
    assert re.search(r"400 deadlines of 200 incidents", late["detail"]), late["detail"]
    assert (late["target"], ready["target"]) == ("< 50 ms", "< 2.0 s")
    assert "the lateness run's start on each" in ready["detail"]
    assert quick_bench.report["meta"]["repeats"]["postgresql_open"] == {"open_incidents": 20_000, "rounds": 0}


def test_the_report_says_when_the_postgresql_figures_are_left_out_for_want_of_a_database(
    quick_bench: QuickBench,
) -> None:
    said = "no CALMLY_BENCH_POSTGRES_URL (nor CALMLY_TEST_POSTGRES_URL), so the PostgreSQL figures"
    assert (said in quick_bench.stdout) is not POSTGRES


def test_only_the_sections_named_are_measured(tmp_path: Path) -> None:
    report = tmp_path / "only.json"
    command = [sys.executable, str(BENCH), "--quick", "--only", "intake", "--json", str(report)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [figure["key"] for figure in data["figures"]] == ["intake_us_per_mention_vs_raw_sqlite"]
    assert data["meta"]["sections"] == ["intake"]
    assert "; only intake" in result.stdout


def test_a_section_that_does_not_exist_is_named_with_the_sections_there_are() -> None:
    command = [sys.executable, str(BENCH), "--only", "postgres-daemons"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 2
    assert "no section named postgres-daemons; the sections are: validate, cold-start" in result.stderr
    assert "postgresql-daemons" in result.stderr
    assert "Traceback" not in result.stderr


def test_each_headline_figure_stands_beside_a_fair_baseline(quick_bench: QuickBench) -> None:
    validate = quick_bench.figure("validate_process_ms_per_playbook")
    step = quick_bench.figure("step_us_per_state_change_vs_bare_trigger")
    memory = quick_bench.figure("daemon_rss_mb_open_incidents")
    cold = quick_bench.figure("cold_start_s_vs_bare_python")
    keys = [figure["key"] for figure in quick_bench.report["figures"]]

    assert validate["baseline_name"] == "PyYAML C loader + jsonschema"
    assert quick_bench.figure("validate_process_ms_per_playbook_vs_check_jsonschema")["target"] == "- (context)"
    assert step["target"] == "<= 3.0x"
    assert keys.index("step_us_per_state_change_vs_bare_trigger") < keys.index("step_us_per_command_vs_bare_trigger")
    assert quick_bench.figure("step_us_per_command_vs_bare_trigger")["target"] == "- (context)"
    if COMPILED:  # the headline runs compiled, and the same on the Python runtime follows it
        assert "compiled with mypyc" in quick_bench.stdout.splitlines()[0]
        python = quick_bench.figure("step_us_per_state_change_python_runtime")
        assert keys.index("step_us_per_state_change_python_runtime") == keys.index(step["key"]) + 1
        assert python["target"] == "- (context)"
        assert "CALMLY_PURE_PYTHON=1" in python["detail"]
    assert memory["baseline_name"] == "the same daemon, empty store"
    assert "compileall" in cold["detail"]
