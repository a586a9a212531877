"""PostgreSQL restarted under load (fast: a clean shutdown; immediate: a crash with WAL recovery)
while one worker publishes several 1 s QoS 1 jobs: afterwards every instant has exactly one
outcome, no run stays open, no success lacks its message and no failure has one (issue 8, 1 and 4)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(100)]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_under_load(scenario, mode):
    scenario.add_worker("w1")
    scenario.create_publish_jobs(4, misfire="skip", prefix="skip")
    scenario.create_publish_jobs(2, misfire="run_once", prefix="once")
    scenario.create_publish_jobs(2, misfire="run_once", max_attempts=2, prefix="retry")
    # Queued runs must neither starve nor go without a record while outcomes wait (issue 8, 4).
    scenario.create_publish_jobs(2, misfire="run_once", overlap="queue", prefix="queue")
    scenario.wait_deliveries(20)
    fault = scenario.fault(f"postgres-{mode}", "cluster")
    scenario.cluster.restart(mode)
    fault.end = time.time()
    # Three seconds' worth of the ten jobs after the restart; if they never come, the report says why.
    scenario.wait_deliveries(30, after=fault.end, timeout=15, required=False)
    report = scenario.settle(window_end=time.time(), timeout=15)
    print(report.format())
    assert not report.broken, scenario.describe(report)
