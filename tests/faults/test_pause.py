"""The leader frozen (SIGSTOP) for 10 s, past any lease, while a replica runs, then resumed
(SIGCONT): the replica takes over during the pause, and the resumed one neither fires the
instants it slept through as ordinary runs nor doubles anything (issue 8, 3)."""

from __future__ import annotations

import signal
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(100)]
PAUSE = 10.0


def test_sigstop_of_the_leader_past_its_lease_then_sigcont(scenario):
    scenario.replicas(2)
    scenario.create_publish_jobs(4, misfire="skip", prefix="skip")
    scenario.create_publish_jobs(2, misfire="run_once", prefix="once")
    scenario.wait_deliveries(12)
    leader = scenario.leader()
    fault = scenario.fault("sigstop", leader.name)
    leader.signal(signal.SIGSTOP)
    try:
        # Condition, not a count after a sleep: the pause ends at its deadline or once the replica
        # has clearly taken over (a full second's worth of the six jobs after the first 2 s).
        scenario.wait_deliveries(6, after=fault.start + 2, timeout=PAUSE, required=False)
        if time.time() - fault.start < PAUSE:  # keep it frozen for the whole pause regardless
            time.sleep(PAUSE - (time.time() - fault.start))
    finally:
        leader.signal(signal.SIGCONT)
    fault.end = time.time()
    during = scenario.delivered_between(fault.start + 0.5, fault.end)
    scenario.wait_deliveries(12, after=fault.end + 1, timeout=15, required=False)
    report = scenario.settle(window_end=time.time(), timeout=15)
    report.table["delivered while leader frozen"] = during
    print(report.format())
    assert during > 0, f"the replica never took over during a {PAUSE:g} s pause of the leader\n{scenario.describe(report)}"
    assert not report.broken, scenario.describe(report)
