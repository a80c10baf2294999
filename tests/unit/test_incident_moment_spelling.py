"""How the runtime spells a moment in history: exactly as ``isoformat`` would, and to the minute for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from engine.incident import iso_moment
from engine.incident._moments import minute

_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), None])


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30)), _ZONES)
def test_a_moment_is_spelled_as_isoformat_spells_it(moment: datetime, zone: timezone | None) -> None:
    moment = moment.replace(tzinfo=zone)

    assert iso_moment(moment) == moment.isoformat()


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), _ZONES.filter(bool))
def test_a_moment_to_the_minute_is_its_utc_time_without_seconds(moment: datetime, zone: timezone) -> None:
    moment = moment.replace(tzinfo=zone)
    text = moment.astimezone(UTC).isoformat()

    assert minute(moment) == f"{text[:10]} {text[11:16]}Z"


def test_the_common_moments_read_as_the_history_has_always_written_them() -> None:
    assert iso_moment(datetime(2026, 11, 23, 13, 0, tzinfo=UTC)) == "2026-11-23T13:00:00+00:00"
    assert iso_moment(datetime(2026, 11, 23, 13, 0, 5, 120, tzinfo=UTC)) == "2026-11-23T13:00:05.000120+00:00"
    assert minute(datetime(2026, 11, 23, 18, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))) == (
        "2026-11-23 13:00Z"
    )
