"""Starts this process's gateway worker: registration, heartbeat, executors and the dispatcher."""

from __future__ import annotations

from functools import partial

import psycopg

from application.dispatcher import JOB_TOPICS, Dispatcher
from application.executors import ActionRunner
from application.executors.files import FileExecutor
from application.executors.mqtt import MqttPublisher
from application.executors.system import SystemExecutor, disk_check, memory_check
from application.heartbeat import Heartbeat
from application.leadership import Leadership
from interfaces.database import conninfo
from interfaces.runtime import Runtime

DISPATCHER_VIEW = "dispatcher"


def _database_check(dsn: str) -> tuple[bool, str]:
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True, "database reachable"
    except psycopg.Error as error:
        return False, f"database unreachable: {error}"


def action_runner(runtime: Runtime) -> tuple[ActionRunner, MqttPublisher]:
    s = runtime.settings
    dsn = conninfo(runtime.url)
    publisher = MqttPublisher(s.mqtt_url, client_id=f"gateway-scheduler-{s.gateway_id}")
    s.files_root.mkdir(parents=True, exist_ok=True)
    checks = {
        "database": partial(_database_check, dsn),
        "broker": lambda: (publisher.ping(), f"broker {'connected' if publisher.ping() else 'not connected'}"),
        "disk": partial(disk_check, s.data_dir),
        "memory": memory_check,
    }
    return ActionRunner(publisher, SystemExecutor(checks), FileExecutor(s.files_root)), publisher


def start_worker(runtime: Runtime) -> Dispatcher:
    s = runtime.settings
    dsn = conninfo(runtime.url)
    runtime.wait(
        runtime.app.register_gateway(
            s.gateway_id, name=s.gateway_name or s.gateway_id, location=s.gateway_location,
            latitude=s.latitude, longitude=s.longitude,
        )
    )
    heartbeat = Heartbeat(dsn, s.gateway_id, every=s.heartbeat_seconds, clock=runtime.clock)
    heartbeat.start()
    runtime.closers.append(heartbeat.stop)
    runner, publisher = action_runner(runtime)
    runtime.closers.append(publisher.close)
    # Commands wait for the dispatcher too, so a job disabled by a command that has answered never fires.
    runtime.progress.register(DISPATCHER_VIEW, JOB_TOPICS, None)
    dispatcher = Dispatcher(
        runtime.app, s.gateway_id, runner, Leadership(dsn, s.gateway_id), clock=runtime.clock,
        max_concurrent=s.max_concurrent_jobs, on_applied=partial(runtime.progress.advance, DISPATCHER_VIEW),
    )
    dispatcher.start()
    runtime.closers.append(dispatcher.stop)
    runtime.extras["worker"] = dispatcher
    return dispatcher
