"""Three daemons on one PostgreSQL database, any of them killed with SIGKILL under load and restarted, again and
again, keep every promise they made between them.

Clients send mentions and actions to any daemon that is up, at random; every notification goes to a signed webhook
on loopback. Besides the checks of the SQLite crash test (``crash_harness``: nothing acknowledged lost, every row
equal to its rebuilt history, no deadline fired twice, one outbox row per notification), each notification came
to the receiver once, or again with the same ``webhook-id`` only after a daemon was killed in between, and every
delivery the store marks delivered came. The default run kills 4 times; ``make soak`` runs it with
``CALMLY_SOAK_CYCLES``. Skips, saying how to enable it, without CALMLY_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import fresh_schema
from crash_harness import Place, Receiver, notifying_roster, run_crash_test

CYCLES = int(os.environ.get("CALMLY_SOAK_CYCLES") or 4)
DAEMONS = 3
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_three_daemons_on_one_database_lose_nothing_and_do_nothing_twice_across_sigkills(tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        with fresh_schema() as url:
            place = Place(url, notifying_roster(tmp_path, receiver), {"HOOK_SECRET": SECRET})
            run = run_crash_test(tmp_path, CYCLES, daemons=DAEMONS, place=place, receiver=receiver)
    finally:
        receiver.close()

    assert len(run.ready_times) == DAEMONS + CYCLES
    assert run.ledger.mentions, "no mention was acknowledged: the load never reached the daemons"
    assert run.ledger.actions, "no action was acknowledged: the load never reached the daemons"
    assert run.stats["deadline_events"], "no deadline fired: the clock never moved far enough"
    assert run.stats["webhooks_received"], "no notification reached the receiver"
