"""The broker restarted (own mosquitto, down 3 s) while two replicas of one gateway publish 1 s
QoS 1 jobs, some with retries: no publish recorded as succeeded is lost, none reported failed is
delivered anyway, none is delivered twice; and each process has its own MQTT client id, so the
broker never closes one replica's connection for the other's (issue 8, 2 and 5)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(100)]
DOWN = 3.0


def test_broker_restart_while_publishing(scenario):
    scenario.replicas(2)
    scenario.create_publish_jobs(3, misfire="skip", prefix="skip")
    scenario.create_publish_jobs(3, misfire="run_once", max_attempts=3, backoff=1, prefix="retry")
    scenario.wait_deliveries(12)
    fault = scenario.fault("broker-restart", "mosquitto")
    scenario.broker.restart(down_seconds=DOWN)
    fault.end = time.time()
    scenario.wait_deliveries(12, after=fault.end + 1, timeout=15, required=False)
    report = scenario.settle(window_end=time.time(), timeout=15)
    print(report.format())
    clashes = report.table["mqtt client-id clashes"]
    assert not report.broken, scenario.describe(report)
    assert clashes == 0, f"the broker closed {clashes} connections for a client id already connected\n{scenario.describe(report)}"
