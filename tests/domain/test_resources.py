"""The ResourceMonitor's hysteresis: raise at the threshold, clear only below threshold - margin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ValidationFailed
from domain.resources import ResourceMonitor

T0 = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


def _kinds(monitor: ResourceMonitor) -> list[str]:
    return [type(e).__name__ for e in monitor.collect_events()]


def test_a_value_hovering_at_the_threshold_raises_once_and_clears_only_below_the_margin():
    monitor = ResourceMonitor.create("gw-1", T0)
    monitor.collect_events()
    readings = [79.9, 80.0, 79.0, 80.5, 76.0, 75.1, 81.0, 74.9, 76.0, 79.9, 80.0]
    kinds = []
    for i, value in enumerate(readings):
        monitor.observe("memory", value, 80.0, 5.0, T0 + timedelta(seconds=i))
        kinds.append(_kinds(monitor))
    assert kinds == [[], ["AlertRaised"], [], [], [], [], [], ["AlertCleared"], [], [], ["AlertRaised"]]


def test_resources_are_independent():
    monitor = ResourceMonitor.create("gw-1", T0)
    monitor.observe("cpu", 95.0, 90.0, 5.0, T0)
    monitor.observe("disk", 50.0, 90.0, 5.0, T0)
    assert monitor.alerting == {"cpu": 90.0}
    monitor.observe("disk", 99.0, 90.0, 5.0, T0)
    monitor.observe("cpu", 80.0, 90.0, 5.0, T0)
    assert monitor.alerting == {"disk": 90.0}


def test_an_unknown_resource_is_refused():
    with pytest.raises(ValidationFailed):
        ResourceMonitor.create("gw-1", T0).observe("gpu", 1.0, 90.0, 5.0, T0)
