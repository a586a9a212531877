"""kill -9 of the leader while a replica runs: the replica takes over within seconds, and every
instant still gets exactly one outcome, nothing is published twice (issue 8: keep both)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def test_kill9_of_the_leader_with_a_replica_running(scenario):
    scenario.replicas(2)
    scenario.create_publish_jobs(4, misfire="skip", prefix="skip")
    scenario.create_publish_jobs(2, misfire="run_once", prefix="once")
    scenario.wait_deliveries(12)
    leader = scenario.leader()
    fault = scenario.fault("kill9", leader.name)
    leader.kill9()
    survivor = scenario.leader(timeout=15)
    assert survivor is not leader
    scenario.wait_deliveries(12, after=fault.start + 1, timeout=20)  # ~2 s of the six jobs, fired by the survivor
    fault.end = time.time()
    report = scenario.settle(window_end=time.time(), timeout=20)
    print(report.format())
    assert not report.broken, scenario.describe(report)
    first = report.table["takeover seconds"][0].split(": ")[1]  # "kill9: 0.99"
    assert first != "none" and float(first) < 5, scenario.describe(report)
