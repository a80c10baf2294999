"""One benchmark figure beside its baseline from the same run, and the timing helper the in-process figures share."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BenchError", "Figure", "in_process_median"]


class BenchError(Exception):
    """The benchmark cannot produce honest figures (bad input, a tool missing or failing)."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure beside its baseline from the same run."""

    key: str
    name: str
    unit: str
    value: float
    baseline_name: str
    baseline: float
    target: str
    met: bool | None
    detail: str

    @property
    def ratio(self) -> float:
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "baseline_name": self.baseline_name,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "target_met": self.met,
            "detail": self.detail,
        }


def in_process_median(work: Callable[[], object], runs: int) -> float:
    """Median time of ``work`` (the caller warms it up first)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
