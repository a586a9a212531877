"""Prometheus metrics at /metrics: read at scrape time from what the runtime already keeps
(dispatcher counters, projection positions, the event log's head) and from per-route request
counts, so serving requests and firing jobs pay no more than an integer increment."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from application.dispatch.stats import LATENESS_BUCKETS
from interfaces.runtime import Runtime

# (method, route template, status) -> [count, seconds]; written by the event loop's thread only.
HTTP_REQUESTS: dict[tuple[str, str, int], list[float]] = {}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    entry = HTTP_REQUESTS.get((method, route, status))
    if entry is None:
        HTTP_REQUESTS[(method, route, status)] = [1, seconds]
    else:
        entry[0] += 1
        entry[1] += seconds


class RuntimeCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        yield from self._http()
        yield from self._dispatch()
        yield from self._read_side()

    def _http(self) -> Iterator[Metric]:
        labels = ["method", "route", "status"]
        count = CounterMetricFamily("gateway_scheduler_http_requests", "HTTP requests answered", labels=labels)
        seconds = CounterMetricFamily(
            "gateway_scheduler_http_request_seconds", "Time spent answering HTTP requests", labels=labels
        )
        for (method, route, status), (n, total) in list(HTTP_REQUESTS.items()):
            count.add_metric([method, route, str(status)], n)
            seconds.add_metric([method, route, str(status)], total)
        yield count
        yield seconds

    def _dispatch(self) -> Iterator[Metric]:
        g = ["gateway_id"]
        fired = CounterMetricFamily("gateway_scheduler_fires", "Runs recorded as started", labels=g)
        missed = CounterMetricFamily("gateway_scheduler_missed_runs", "Instants recorded as missed", labels=g)
        cancelled = CounterMetricFamily(
            "gateway_scheduler_cancelled_runs", "Recorded runs not started: their job changed meanwhile", labels=g
        )
        finished = CounterMetricFamily(
            "gateway_scheduler_executions_finished", "Executions closed, by status", labels=[*g, "status"]
        )
        lateness = HistogramMetricFamily(
            "gateway_scheduler_fire_lateness_seconds", "Scheduled instant to launch", labels=g
        )
        running = GaugeMetricFamily("gateway_scheduler_running_executions", "Executions running now", labels=g)
        leader = GaugeMetricFamily("gateway_scheduler_dispatcher_leader", "1 while this process leads", labels=g)
        term = GaugeMetricFamily("gateway_scheduler_dispatcher_term", "Leadership term held (0: none)", labels=g)
        pending = GaugeMetricFamily(
            "gateway_scheduler_outcomes_pending", "Run outcomes waiting to be recorded", labels=g
        )
        write_failures = CounterMetricFamily(
            "gateway_scheduler_outcome_write_failures", "Failed attempts to record outcomes", labels=g
        )
        reconciled = CounterMetricFamily(
            "gateway_scheduler_outcomes_reconciled",
            "Outcomes not recorded because their run had been closed meanwhile (e.g. by a takeover)", labels=g,
        )
        for gateway_id, worker in list(self.runtime.workers.items()):
            dispatcher = worker.dispatcher
            if dispatcher is None:
                continue
            stats = dispatcher.stats
            fired.add_metric([gateway_id], stats.fired)
            missed.add_metric([gateway_id], stats.missed)
            cancelled.add_metric([gateway_id], stats.cancelled)
            for status, n in list(stats.finished.items()):
                finished.add_metric([gateway_id, status], n)
            cumulative, buckets = 0, []
            for bound, n in zip((*map(str, LATENESS_BUCKETS), "+Inf"), list(stats.lateness_counts), strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            lateness.add_metric([gateway_id], buckets, stats.lateness_sum)
            running.add_metric([gateway_id], dispatcher.running_count())
            leader.add_metric([gateway_id], 1 if dispatcher.leadership.held else 0)
            term.add_metric([gateway_id], dispatcher.leadership.term or 0)
            pending.add_metric([gateway_id], dispatcher.writer.pending)
            write_failures.add_metric([gateway_id], dispatcher.writer.failures)
            reconciled.add_metric([gateway_id], dispatcher.writer.reconciled)
        yield from (fired, missed, cancelled, finished, lateness, running, leader, term, pending, write_failures, reconciled)

    def _read_side(self) -> Iterator[Metric]:
        head = GaugeMetricFamily("gateway_scheduler_event_log_position", "Notification id of the newest event")
        try:
            head.add_metric([], self.runtime.app.recorder.max_notification_id() or 0)
        except Exception:  # noqa: BLE001 - the database is away: say nothing rather than fail the scrape
            pass
        else:
            yield head
        projected = GaugeMetricFamily(
            "gateway_scheduler_projection_position", "Notification id a read model has processed", labels=["projection"]
        )
        failing = GaugeMetricFamily(
            "gateway_scheduler_projection_failing", "1 while a read model cannot advance", labels=["projection"]
        )
        failures = CounterMetricFamily(
            "gateway_scheduler_projection_failures", "Failed attempts of a read model to advance", labels=["projection"]
        )
        for thread in self.runtime.projections:
            name = thread.projection.name
            projected.add_metric([name], self.runtime.progress.position(thread.view.tracking_table))
            failing.add_metric([name], 0 if thread.failure is None else 1)
            failures.add_metric([name], thread.failures)
        yield projected
        yield failing
        yield failures


def registry_for(runtime: Runtime) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    ProcessCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
