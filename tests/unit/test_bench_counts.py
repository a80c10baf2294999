"""The several-daemons bench counts the store after each run: a figure whose acknowledged mentions are not all in
the store, each with its incident, is refused rather than reported (``bench/postgresql_daemons.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))  # bench/'s modules import one another as siblings

from figure import BenchError
from postgresql_daemons import _check
from surge import Load

ACKNOWLEDGED = Load(requests=100, seconds=1.0, p50_ms=1.0, p99_ms=2.0)


def test_a_run_whose_acknowledged_mentions_all_landed_is_counted_with_those_still_in_flight() -> None:
    _check("r0d0", ACKNOWLEDGED, 4, (100, 100, 100))
    _check("r0d0", ACKNOWLEDGED, 4, (104, 106, 104))  # a few sent as wrk stopped, stored unanswered


def test_a_run_whose_store_lacks_an_acknowledged_mention_stops_the_bench() -> None:
    with pytest.raises(BenchError, match=r"acknowledged 100 mentions from r0d0 over 4 connections, but the store "):
        _check("r0d0", ACKNOWLEDGED, 4, (99, 100, 99))


def test_a_run_with_more_mentions_stored_than_it_could_have_sent_stops_the_bench() -> None:
    with pytest.raises(BenchError, match=r"holds 109 of them \(numbered up to 109"):
        _check("r0d0", ACKNOWLEDGED, 4, (109, 109, 109))


def test_a_mention_that_opened_no_incident_stops_the_bench() -> None:
    with pytest.raises(BenchError, match=r"99 opening an incident"):
        _check("r0d0", ACKNOWLEDGED, 4, (100, 100, 99))
