"""Starts this process's gateway worker: registration and heartbeat (the dispatcher joins here)."""

from __future__ import annotations

from application.heartbeat import Heartbeat
from interfaces.database import conninfo
from interfaces.runtime import Runtime


def start_worker(runtime: Runtime) -> None:
    s = runtime.settings
    runtime.wait(
        runtime.app.register_gateway(
            s.gateway_id, name=s.gateway_name or s.gateway_id, location=s.gateway_location,
            latitude=s.latitude, longitude=s.longitude,
        )
    )
    heartbeat = Heartbeat(conninfo(runtime.url), s.gateway_id, every=s.heartbeat_seconds, clock=runtime.clock)
    heartbeat.start()
    runtime.extras["heartbeat"] = heartbeat
    runtime.closers.append(heartbeat.stop)
