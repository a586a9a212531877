"""What the dispatchers of one worker process share (docs/decisions.md 86, 101-103): one
job-event subscription, one lease renewal statement for all their leases (and one look for their
standbys), one follow-up query, one thread for their passes with the records of each tick in one
transaction and one sweep query (ProcessTick), so that
a process running many gateways costs the database about what one gateway of the same jobs costs."""

from __future__ import annotations

from typing import Any

from application.clock import Clock, utc_now
from application.dispatch.follow_ups import ProcessFollowUps
from application.dispatch.job_feed import JobFeedHub
from application.dispatch.lease_keeper import LeaseKeeper
from application.dispatch.leadership import APP_NAME_PREFIX, LEASE_SECONDS, RENEW_EVERY, SAFETY
from application.dispatch.process_commits import ProcessCommits
from application.dispatch.process_tick import ProcessTick
from application.operations import Operations


class DispatchProcess:
    """One per process and database (one Scheduler application); given to each Dispatcher."""

    def __init__(self, app: Any, conninfo: str, clock: Clock = utc_now) -> None:
        self.feeds = JobFeedHub(app, keep_history=True)
        self.leases = LeaseKeeper(
            conninfo, lease_seconds=LEASE_SECONDS, every=RENEW_EVERY, safety=SAFETY, prefix=APP_NAME_PREFIX)
        self.commits = ProcessCommits(app)
        self.ticker = ProcessTick(app, self.commits)  # one thread for every dispatcher's passes
        self.operations = Operations(conninfo, clock)
        self.follow_ups = ProcessFollowUps(self.operations)

    def stop(self) -> None:
        self.ticker.stop()
        self.follow_ups.stop()
        self.leases.stop()
        self.operations.close()
