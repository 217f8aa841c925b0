"""The pipeline's clock: microseconds since the Unix epoch (UTC). Pure: no Django.

Readings, states and counts travel and are compared as integer microseconds; they become
aware UTC datetimes only where they are stored or shown.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def now_us() -> int:
    """Microseconds since the Unix epoch (UTC), now."""
    return time.time_ns() // 1000


def us_to_datetime(ts_us: int) -> datetime:
    """The aware UTC datetime of a time in microseconds."""
    return _EPOCH + timedelta(microseconds=ts_us)


def datetime_to_us(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (value - _EPOCH) // _ONE_US
