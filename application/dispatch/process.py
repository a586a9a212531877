"""What the dispatchers of one worker process share (docs/decisions.md 86, 101-103): one
job-event subscription, one lease renewal statement for all their leases (and one look for their
standbys), one follow-up query, and the commit of their records in common transactions, so that
a process running many gateways costs the database about what one gateway of the same jobs costs."""

from __future__ import annotations

import math
import time
from typing import Any

from application.clock import Clock, utc_now
from application.dispatch.follow_ups import ProcessFollowUps
from application.dispatch.job_feed import JobFeedHub
from application.dispatch.lease_keeper import LeaseKeeper
from application.dispatch.leadership import APP_NAME_PREFIX, LEASE_SECONDS, RENEW_EVERY, SAFETY
from application.dispatch.process_commits import ProcessCommits
from application.operations import Operations


# The process's dispatchers wake on this grid (monotonic seconds), so that the fires and outcomes
# each records arrive at the committer together and share its transactions (decision 98).
TICK_GRID = 0.05


class DispatchProcess:
    """One per process and database (one Scheduler application); given to each Dispatcher."""

    def __init__(self, app: Any, conninfo: str, clock: Clock = utc_now) -> None:
        self.feeds = JobFeedHub(app, keep_history=True)
        self.leases = LeaseKeeper(
            conninfo, lease_seconds=LEASE_SECONDS, every=RENEW_EVERY, safety=SAFETY, prefix=APP_NAME_PREFIX)
        self.commits = ProcessCommits(app)
        self.operations = Operations(conninfo, clock)
        self.follow_ups = ProcessFollowUps(self.operations)

    @staticmethod
    def aligned(timeout: float) -> float:
        """A wait of at least `timeout` seconds that ends on the process's tick grid."""
        now = time.monotonic()
        return math.ceil((now + timeout) / TICK_GRID) * TICK_GRID - now

    def stop(self) -> None:
        self.follow_ups.stop()
        self.leases.stop()
        self.operations.close()
