"""The benchmark keeps running: ``bench/run.py --quick`` exits 0 and reports every figure with a positive value.

This guards against the benchmark rotting (a renamed API, a generated variant the language no longer accepts, a
figure dropped from the report). It asserts nothing about timings: those are noisy and are read by people, as ratios.
It stays in the default ``pytest`` run; ``--quick`` keeps it to well under a minute on a 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "run.py"
#: Every figure the report must hold; a figure removed from the benchmark has to be removed here too, deliberately.
FIGURES = {
    "validate_process_ms_per_playbook",
    "load_in_process_ms_per_playbook",
    "cold_start_s_vs_bare_python",
    "cold_start_s_vs_yaml_jsonschema_import",
    "step_us_per_command_vs_bare_trigger",
    "step_us_per_state_change_vs_bare_trigger",
    "step_us_per_command_vs_dict_lookup",
    "memory_bytes_per_open_incident",
    "build_s_open_incidents",
    "intake_us_per_mention_vs_raw_sqlite",
    "durable_intake_us_per_mention_full_vs_normal",
    "http_intake_ms_per_request_vs_healthz",
    "http_action_ms_per_request_vs_healthz",
    "deadline_lateness_p50_ms",
    "deadline_lateness_p99_ms",
    "daemon_rss_mb_open_incidents",
    "daemon_ready_s_open_incidents",
    "delivery_ms_vs_bare_post",
    "due_to_received_p50_ms",
    "due_to_received_p99_ms",
}
#: Only a guard against a hung run; the quick benchmark takes well under a minute.
TIMEOUT_S = 300


def run_quick_bench(report: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(BENCH), "--quick", "--json", str(report)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def test_quick_bench_runs_and_reports_every_figure(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    result = run_quick_bench(report)
    assert result.returncode == 0, result.stdout + result.stderr

    data = json.loads(report.read_text(encoding="utf-8"))
    figures = {figure["key"]: figure for figure in data["figures"]}
    assert set(figures) == FIGURES
    for key, figure in figures.items():
        for field in ("value", "baseline", "ratio"):
            assert figure[field] > 0, f"{key}.{field} = {figure[field]!r}"
        assert figure["name"] in result.stdout, f"{key} is missing from the printed table"
    assert data["meta"]["quick"] is True
    assert data["meta"]["generated_variants"] == 100
    assert data["meta"]["repeats"]["incidents"] == 10_000
    assert data["meta"]["repeats"]["daemon"]["open_incidents"] == 5_000
