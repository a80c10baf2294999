"""How a list of durations is summed up: count, median and 90th percentile.

The median is the middle value, or the mean of the two middle values when the count is even. The 90th percentile
is the *nearest-rank* one: the smallest value that at least 90% of the values do not exceed (of 10 values, the 9th
smallest; of 5, the 5th). It is always one of the measured values, never a value between two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

__all__ = ["Spread", "median", "nearest_rank"]


def median(values: Sequence[float]) -> float | None:
    """The median of ``values`` (sorted or not), or None for none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def nearest_rank(values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank ``percent`` percentile of ``values``, or None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Spread:
    """Durations summed up, in seconds: how many, the median and the 90th percentile (None when there are none)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, durations: Sequence[timedelta | None]) -> Spread:
        seconds = [value.total_seconds() for value in durations if value is not None]
        return cls(len(seconds), median(seconds), nearest_rank(seconds, 90))

    def as_json(self) -> dict[str, float | int | None]:
        return {"count": self.count, "median_seconds": self.median, "p90_seconds": self.p90}
