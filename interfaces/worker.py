"""Starts this process's gateway worker: registration, heartbeat, executors and the dispatcher."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial

import psycopg

from application.commands import CommandContext, RegisterGateway
from application.dispatch.dispatcher import Dispatcher
from application.dispatch.heartbeat import Heartbeat
from application.dispatch.job_feed import JOB_TOPICS
from application.dispatch.leadership import Leadership
from application.dispatch.process import DispatchProcess
from application.executors import ActionRunner
from application.executors.files import FileExecutor
from application.executors.mqtt import MqttPublisher
from application.executors.system import SystemExecutor, disk_check, memory_check
from interfaces.database import conninfo
from interfaces.resources import ResourceSampler, psutil_readings
from interfaces.runtime import Runtime


def _database_check(dsn: str) -> tuple[bool, str]:
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True, "database reachable"
    except psycopg.Error as error:
        return False, f"database unreachable: {error}"


def action_runner(runtime: Runtime, gateway_id: str, mqtt_url: str) -> tuple[ActionRunner, MqttPublisher]:
    s = runtime.settings
    dsn = conninfo(runtime.url)
    # One client id per process: replicas of a gateway sharing one would knock each other off the broker.
    publisher = MqttPublisher(mqtt_url, client_id=f"gateway-scheduler-{gateway_id}-{uuid.uuid4().hex[:8]}")
    s.files_root.mkdir(parents=True, exist_ok=True)
    checks = {
        "database": partial(_database_check, dsn),
        "broker": lambda: (publisher.ping(), f"broker {'connected' if publisher.ping() else 'not connected'}"),
        "disk": partial(disk_check, s.data_dir),
        "memory": memory_check,
    }
    return ActionRunner(publisher, SystemExecutor(checks), FileExecutor(s.files_root)), publisher


class Worker:
    """One gateway's worker in this process; `stop()` stops it (newest part first)."""

    def __init__(self, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        self.dispatcher: Dispatcher | None = None
        self._closers: list[Callable[[], None]] = []

    def running_count(self) -> int:
        return self.dispatcher.running_count() if self.dispatcher else 0

    def stop(self) -> None:
        while self._closers:
            self._closers.pop()()


def start_worker(runtime: Runtime, gateway_id: str | None = None, mqtt_url: str | None = None) -> Worker:
    s = runtime.settings
    gateway_id = gateway_id or s.gateway_id
    dsn = conninfo(runtime.url)
    worker = Worker(gateway_id)
    identity = RegisterGateway(gateway_id, s.gateway_name or gateway_id, s.gateway_location, s.latitude, s.longitude)
    runtime.wait(runtime.app.execute(identity, CommandContext(f"worker/{gateway_id}", None)).recorded)
    heartbeat = Heartbeat(dsn, gateway_id, every=s.heartbeat_seconds, clock=runtime.clock)
    heartbeat.start()
    worker._closers.append(heartbeat.stop)
    sampler = ResourceSampler(
        runtime.app, gateway_id, psutil_readings(s.data_dir), s.alert_thresholds(), s.alert_clear_margin,
        every=s.resource_sample_seconds,
    ).start()
    worker._closers.append(sampler.stop)
    runner, publisher = action_runner(runtime, gateway_id, mqtt_url or s.mqtt_url)
    worker._closers.append(publisher.close)
    # Commands wait for the dispatcher too, so a job disabled by a command that has answered never fires.
    view = f"dispatcher/{gateway_id}"
    runtime.progress.register(view, JOB_TOPICS, None)
    worker._closers.append(lambda: runtime.progress.unregister(view))
    if runtime.dispatch_process is None:  # one subscription, lease keeper and committer for all its gateways
        runtime.dispatch_process = DispatchProcess(runtime.app, dsn, runtime.clock)
        runtime.closers.append(runtime.dispatch_process.stop)
    dispatcher = Dispatcher(
        runtime.app, gateway_id, runner, Leadership(dsn, gateway_id), clock=runtime.clock,
        max_concurrent=s.max_concurrent_jobs, on_applied=partial(runtime.progress.advance, view),
        shared=runtime.dispatch_process,
    )
    dispatcher.start()
    worker.dispatcher = dispatcher
    worker._closers.append(dispatcher.stop)
    runtime.workers[gateway_id] = worker
    worker._closers.append(lambda: runtime.workers.pop(gateway_id, None))
    return worker
