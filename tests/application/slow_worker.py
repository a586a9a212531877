"""A real dispatcher in its own process whose actions hang: the kill -9 test's victim."""

from __future__ import annotations

import sys
import time

from application.scheduler import Scheduler
from interfaces.database import eventsourcing_env
from tests.application.dispatch_support import FakeExecutor, sleeper


class _Runtime:
    def __init__(self, url: str) -> None:
        self.url = url
        self.app = Scheduler(eventsourcing_env(url, pool_size=2))


if __name__ == "__main__":
    from tests.application.dispatch_support import dispatcher

    url, gateway_id = sys.argv[1], sys.argv[2]
    d = dispatcher(_Runtime(url), gateway_id, FakeExecutor(sleeper(60)))
    d.start()
    print("started", flush=True)
    while True:
        time.sleep(1)
