"""Fixtures for application tests: a reachable MQTT broker (MQTT_URL, the local one, or a spawned mosquitto)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    candidates = [os.environ["MQTT_URL"]] if os.environ.get("MQTT_URL") else []
    candidates.append("mqtt://127.0.0.1:1883")
    for url in candidates:
        parts = urlsplit(url)
        if _reachable(parts.hostname or "127.0.0.1", parts.port or 1883):
            yield url
            return
    binary = shutil.which("mosquitto")
    if binary is None:
        pytest.skip(f"no MQTT broker reachable at {', '.join(candidates)} and no mosquitto binary to start one")
    port = _free_port()
    broker = subprocess.Popen([binary, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if _reachable("127.0.0.1", port):
                break
            time.sleep(0.1)
        else:
            pytest.skip(f"mosquitto started on port {port} but never accepted connections")
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        broker.terminate()
        broker.wait(timeout=10)
