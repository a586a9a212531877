"""What a dispatcher has done since it started, for monitoring (the metrics endpoint reads it).
Plain counters: each is written by one thread only (the loop or the launcher), so no update is
lost and the hot path pays an integer increment."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

# Upper bounds (seconds) of the lateness buckets: scheduled instant -> launch.
LATENESS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class DispatchStats:
    fired: int = 0  # runs recorded as started (scheduled, misfire, queued, manual, retries excluded)
    missed: int = 0  # instants recorded as missed (misfire or overlap policy)
    cancelled: int = 0  # recorded runs not started because their job changed within the lead time
    finished: Counter[str] = field(default_factory=Counter)  # by final status
    lateness_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENESS_BUCKETS) + 1))
    lateness_sum: float = 0.0

    def launched(self, lateness_seconds: float) -> None:
        self.lateness_counts[bisect_left(LATENESS_BUCKETS, lateness_seconds)] += 1
        self.lateness_sum += lateness_seconds
