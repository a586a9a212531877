"""POST /jobs/{id}/run through the real app, a real worker and the real MQTT broker."""

from __future__ import annotations

import json
import queue
import uuid
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.conftest import Api, job_body


@pytest.fixture
def worker_api(http: Any, runtime: Any, mqtt_url: str):
    from interfaces.worker import start_worker

    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    worker = start_worker(runtime, gateway_id, mqtt_url=mqtt_url)
    try:
        yield Api(http, gateway_id)
    finally:
        worker.stop()


def _subscribe(mqtt_url: str, topic: str) -> tuple[Any, queue.Queue]:
    from urllib.parse import urlsplit

    parts = urlsplit(mqtt_url)
    received: queue.Queue = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    subscribed = queue.Queue()
    client.on_message = lambda c, u, msg: received.put(msg.payload.decode())
    client.on_subscribe = lambda *a: subscribed.put(True)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    client.subscribe(topic, qos=1)
    subscribed.get(timeout=5)
    return client, received


def test_a_manual_run_publishes_the_rendered_payload_to_a_subscriber(worker_api, mqtt_url):
    topic = f"test/{uuid.uuid4().hex}"
    body = job_body(
        schedule={"interval_seconds": 3600},
        action={"type": "publish", "topic": topic, "qos": 1,
                "payload_template": '{"job": "${JOB_ID}", "exec": "${EXECUTION_ID}", "gw": "${GATEWAY_ID}", "v": ${level}}'},
    )
    job_id = worker_api.post("/jobs", body).json()["data"]["job_id"]
    client, received = _subscribe(mqtt_url, topic)
    try:
        r = worker_api.post(f"/jobs/{job_id}/run", {"parameters": {"level": 7}})
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["status"] == "started" and data["trigger"] == "manual" and data["start_time"].endswith("Z")
        payload = json.loads(received.get(timeout=10))
    finally:
        client.loop_stop()
        client.disconnect()
    assert payload == {"job": job_id, "exec": data["execution_id"], "gw": worker_api.gateway_id, "v": 7}


def test_a_run_request_for_an_offline_gateway_is_gateway_offline(api):
    job_id = api.post("/jobs", job_body()).json()["data"]["job_id"]
    r = api.post(f"/jobs/{job_id}/run", {})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "GATEWAY_OFFLINE"


def test_run_requests_with_bad_bodies_or_unknown_jobs_get_their_codes(worker_api):
    assert worker_api.post("/jobs/job_nope/run", {}).json()["error"]["code"] == "JOB_NOT_FOUND"
    job_id = worker_api.post("/jobs", job_body()).json()["data"]["job_id"]
    for bad in ({"force": "yes"}, {"parameters": []}, {"unknown": 1}):
        r = worker_api.post(f"/jobs/{job_id}/run", bad)
        assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR", (bad, r.text)
    assert worker_api.as_role("viewer").post(f"/jobs/{job_id}/run", {}).status_code == 403


def test_a_disabled_job_runs_only_when_forced(worker_api):
    job_id = worker_api.post("/jobs", job_body(enabled=False)).json()["data"]["job_id"]
    r = worker_api.post(f"/jobs/{job_id}/run", {})
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert worker_api.post(f"/jobs/{job_id}/run", {"force": True}).status_code == 200


def test_the_concurrency_limit_refuses_runs_unless_forced(worker_api, runtime):
    from dataclasses import replace

    job_id = worker_api.post("/jobs", job_body()).json()["data"]["job_id"]
    settings = runtime.settings
    runtime.settings = replace(settings, max_concurrent_jobs=0)
    try:
        r = worker_api.post(f"/jobs/{job_id}/run", {})
        assert r.status_code == 429 and r.json()["error"]["code"] == "RESOURCE_LIMIT_EXCEEDED"
        assert worker_api.post(f"/jobs/{job_id}/run", {"force": True}).status_code == 200
    finally:
        runtime.settings = settings
