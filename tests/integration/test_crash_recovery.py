"""The daemon killed with SIGKILL under load and restarted, again and again, keeps every promise it made.

Every mention and action it acknowledged is in the store, every incident's row equals its rebuilt history, and no
deadline or notification took effect twice (see ``crash_harness``). The default run kills it 5 times, in well under a
minute; ``make soak`` runs the same test with ``CALMLY_SOAK_CYCLES=200``. ``CALMLY_CRASH_SEED`` repeats a run's
choices (its seed is printed, and named in any failure).
"""

from __future__ import annotations

import os
from pathlib import Path

from crash_harness import run_crash_test

CYCLES = int(os.environ.get("CALMLY_SOAK_CYCLES") or 5)


def test_nothing_acknowledged_is_lost_and_nothing_fires_twice_across_sigkill_restarts(tmp_path: Path) -> None:
    run = run_crash_test(tmp_path, CYCLES)

    assert len(run.ready_times) == CYCLES + 1
    assert run.ledger.mentions, "no mention was acknowledged: the load never reached the daemon"
    assert run.ledger.actions, "no action was acknowledged: the load never reached the daemon"
