"""The database goes away under a running dispatcher and comes back: no instant is lost — each
is run (late) or recorded missed per the job's misfire policy."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from application.dispatch.process import DispatchProcess
from application.scheduler import Scheduler
from interfaces.database import EmbeddedPostgres, conninfo, eventsourcing_env, migrate
from tests.application.dispatch_support import FakeExecutor, dispatcher, executions, wait_until

pytestmark = pytest.mark.slow


class _Runtime:
    def __init__(self, url: str) -> None:
        self.url = url
        self.app = Scheduler(eventsourcing_env(url, pool_size=2))


@pytest.mark.parametrize("shared", [False, True], ids=["own-parts", "process-parts"])
def test_no_instant_is_lost_when_the_database_goes_away_and_comes_back(shared):
    base = Path(tempfile.mkdtemp(prefix="gs-outage-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(base / "pgdata")
    runtime = _Runtime(server.url)
    d = parts = None
    try:
        migrate(server.url)
        fake = FakeExecutor()
        # process-parts: the lease keeper and the process's committer (DispatchProcess) ride it out too
        parts = DispatchProcess(runtime.app, conninfo(server.url)) if shared else None
        d = dispatcher(runtime, "gw-outage", fake, shared=parts)
        d.start()
        fields = {"name": "tick", "type": "interval", "schedule": {"interval_seconds": 1},
                  "action": {"type": "system", "operation": "health_check"}}
        runtime.app.create_job("gw-outage", fields, actor="t")
        assert wait_until(lambda: len(fake.calls) >= 2, timeout=30)
        server.stop()
        time.sleep(3.5)
        server = EmbeddedPostgres(base / "pgdata")
        before = len(fake.calls)
        assert wait_until(lambda: len(fake.calls) >= before + 3, timeout=30)
        d.stop()
        d = None
        found = sorted(e.scheduled_for for e in executions(runtime, "gw-outage") if e.scheduled_for)
        gaps = [(a, b) for a, b in zip(found, found[1:]) if (b - a).total_seconds() != 1]
        assert len(found) >= 6 and not gaps, gaps  # 2 before, ~3 during the outage, 3 after
        assert len(found) == len(set(found))
    finally:
        if d is not None:
            d.stop()
        if parts is not None:
            parts.stop()
        runtime.app.close()
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
