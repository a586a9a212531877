"""The MQTT publisher against a real broker: rendered payloads arrive, retain is honoured, outages fail in time."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import threading
import time
import uuid
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from application.executors.mqtt import BrokerAddress, MqttPublisher
from application.executors.ports import ExecutionContext
from domain.actions import parse_action

NOW = datetime(2025, 3, 12, 15, 10, 30, tzinfo=UTC)


def context(timeout: float = 5.0, **parameters) -> ExecutionContext:
    suffix = uuid.uuid4().hex[:8]
    return ExecutionContext(job_id=f"job_{suffix}", job_name="Modbus Poll", execution_id=f"exec_{suffix}",
                            gateway_id="GW-3920A9", device_id="dev-7", now=NOW, parameters=parameters,
                            timeout_seconds=timeout)


class Subscriber:
    """A plain paho client that collects what arrives on one topic."""

    def __init__(self, url: str, topic: str) -> None:
        address = BrokerAddress.parse(url)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda client, *_: client.subscribe(topic, qos=2)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = lambda _client, _userdata, message: self.messages.put(message)
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        assert subscribed.wait(5), "subscription not acknowledged"

    def next(self, timeout: float = 5.0) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mqtt_url):
    publisher = MqttPublisher(mqtt_url)
    yield publisher
    publisher.close()


@pytest.fixture
def topic():
    return f"test/gateway-scheduler/{uuid.uuid4().hex}"


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_rendered_payload_arrives_with_each_qos(mqtt_url, publisher, topic, qos):
    subscriber = Subscriber(mqtt_url, topic)
    try:
        ctx = context(zone="north")
        template = '{"job": "${JOB_ID}", "exec": "${EXECUTION_ID}", "at": "${NOW}", "zone": "${zone}", "x": "${X}"}'
        action = parse_action({"type": "publish", "topic": topic, "payload_template": template, "qos": qos})
        result = publisher.execute(action, ctx)
        assert result.status == "success", result.message
        message = subscriber.next()
        expected = (f'{{"job": "{ctx.job_id}", "exec": "{ctx.execution_id}", "at": "2025-03-12T15:10:30Z", '
                    f'"zone": "north", "x": "${{X}}"}}')
        assert message.payload.decode() == expected
        assert message.topic == topic
        assert result.details["qos"] == qos
        assert result.details["payload_bytes"] == len(expected.encode())
        assert result.logs and result.logs[-1].message == result.message
    finally:
        subscriber.close()


def test_retained_message_is_delivered_to_a_later_subscriber(mqtt_url, publisher, topic):
    action = parse_action({"type": "publish", "topic": topic, "payload_template": "kept", "qos": 1, "retain": True})
    assert publisher.execute(action, context()).status == "success"
    subscriber = Subscriber(mqtt_url, topic)
    try:
        message = subscriber.next()
        assert message.payload == b"kept" and message.retain is True
    finally:
        subscriber.close()
        clear = parse_action({"type": "publish", "topic": topic, "payload_template": "", "qos": 1, "retain": True})
        publisher.execute(clear, context())  # an empty retained payload removes it from the broker


def test_message_without_retain_is_not_kept(mqtt_url, publisher, topic):
    action = parse_action({"type": "publish", "topic": topic, "payload_template": "gone", "qos": 1})
    assert publisher.execute(action, context()).status == "success"
    subscriber = Subscriber(mqtt_url, topic)
    try:
        with pytest.raises(queue.Empty):
            subscriber.next(timeout=0.5)
    finally:
        subscriber.close()


def test_publisher_reports_connected(publisher):
    deadline = time.monotonic() + 5
    while not publisher.ping() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert publisher.ping() is True


@pytest.mark.parametrize("qos", [0, 1])
def test_unreachable_broker_fails_within_the_timeout(qos):
    publisher = MqttPublisher("mqtt://127.0.0.1:1")
    try:
        action = parse_action({"type": "publish", "topic": "test/unreachable", "qos": qos})
        started = time.monotonic()
        result = publisher.execute(action, context(timeout=2.0))
        elapsed = time.monotonic() - started
        assert result.status == "failed"
        assert "mqtt://127.0.0.1:1 unreachable" in result.message
        assert elapsed < 2.5
        assert publisher.ping() is False
    finally:
        publisher.close()


def test_credentials_in_the_url_are_parsed_and_never_shown():
    address = BrokerAddress.parse("mqtts://user%40x:p%3Ass@broker.example:8884")
    assert (address.host, address.port, address.tls) == ("broker.example", 8884, True)
    assert (address.username, address.password) == ("user@x", "p:ss")
    assert "p:ss" not in str(address) and str(address) == "mqtts://broker.example:8884"
    assert BrokerAddress.parse("mqtts://broker").port == 8883
    assert BrokerAddress.parse("mqtt://broker").port == 1883
    with pytest.raises(ValueError):
        BrokerAddress.parse("http://broker")


def test_a_non_publish_action_is_refused(publisher):
    result = publisher.execute(parse_action({"type": "system", "operation": "health_check"}), context())
    assert result.status == "failed"


def test_a_publish_sent_but_never_acknowledged_fails_as_delivery_unknown_and_is_not_sent_again(tmp_path):
    """The broker freezes (SIGSTOP) after the publish reached its socket: the outcome is unknown,
    so it is reported DELIVERY_UNKNOWN (never retried) and withdrawn from the client's queue: once
    the broker resumes, the message arrives at most once (the broker's copy), never resent."""
    from tests.faults.processes import Broker

    if not shutil.which("mosquitto") and not os.path.exists("/usr/sbin/mosquitto"):
        pytest.skip("no mosquitto binary to start a broker of this test's own")
    broker = Broker(tmp_path / "broker")
    broker.start()
    publisher = MqttPublisher(broker.url)
    topic = f"test/gateway-scheduler/{uuid.uuid4().hex}"
    subscriber = Subscriber(broker.url, topic)
    try:
        action = parse_action({"type": "publish", "topic": topic, "payload_template": "${EXECUTION_ID}", "qos": 1})
        assert publisher.execute(action, context()).status == "success"  # connected and working
        subscriber.next()
        assert broker.proc is not None
        os.kill(broker.proc.pid, signal.SIGSTOP)
        ctx = context(timeout=1.0)
        result = publisher.execute(action, ctx)
        assert result.status == "failed" and result.details.get("error_code") == "DELIVERY_UNKNOWN", result.message
        assert "may have reached the broker" in result.message
        os.kill(broker.proc.pid, signal.SIGCONT)
        arrived = []
        try:
            arrived.append(subscriber.next(timeout=5).payload.decode())  # the frozen broker's copy
            arrived.append(subscriber.next(timeout=3).payload.decode())  # a resend would arrive here
        except queue.Empty:
            pass
        assert arrived.count(ctx.execution_id) <= 1, arrived
        assert publisher.execute(action, context()).status == "success"  # the client carries on
    finally:
        subscriber.close()
        publisher.close()
        if broker.proc is not None:
            os.kill(broker.proc.pid, signal.SIGCONT)
        broker.stop()


def test_a_publish_queued_while_disconnected_is_withdrawn_when_it_fails_and_never_delivered_later(tmp_path):
    """The connection drops between the publisher's check and paho's publish (paho then queues the
    message for the reconnect): the run fails within its timeout, and the message is taken back, so
    after the broker returns only later publishes arrive."""
    from tests.faults.processes import Broker

    if not shutil.which("mosquitto") and not os.path.exists("/usr/sbin/mosquitto"):
        pytest.skip("no mosquitto binary to start a broker of this test's own")
    broker = Broker(tmp_path / "broker")
    publisher = MqttPublisher(broker.url)  # nothing listens yet: the client is disconnected
    publisher._wait_connected = lambda deadline: True  # the drop after the check, made deterministic
    topic = f"test/gateway-scheduler/{uuid.uuid4().hex}"
    action = parse_action({"type": "publish", "topic": topic, "payload_template": "${EXECUTION_ID}", "qos": 1})
    lost = context(timeout=1.0)
    subscriber = None
    try:
        result = publisher.execute(action, lost)
        assert result.status == "failed" and result.details.get("error_code") == "EXECUTION_TIMEOUT", result.message
        assert "not sent" in result.message and publisher._client._out_messages == {}
        del publisher._wait_connected
        broker.start()
        subscriber = Subscriber(broker.url, topic)
        later = context()
        deadline = time.monotonic() + 15
        while publisher.execute(action, later).status != "success":  # reconnected
            assert time.monotonic() < deadline, "the publisher never reconnected"
            later = context()
        first = subscriber.next(timeout=5).payload.decode()
        assert first == later.execution_id  # the failed one was never delivered before it
    finally:
        if subscriber is not None:
            subscriber.close()
        publisher.close()
        broker.stop()


def test_a_qos0_publish_at_its_deadline_is_taken_back_only_while_it_waits_to_be_written():
    """QoS 0 publishes are not in paho's message store; at the deadline one still waiting in the
    outgoing packets is taken out (never sent), one the network thread has taken or partly written
    is on its way and is waited for (a paused process resumed past the deadline: test_pause.py)."""
    from collections import deque
    from types import SimpleNamespace

    def publisher(*packets: dict) -> MqttPublisher:
        p = object.__new__(MqttPublisher)
        p._client = SimpleNamespace(_out_packet=deque(packets))  # type: ignore[attr-defined]
        return p

    def packet(mid: int, pos: int = 0) -> dict:
        return {"command": mqtt.PUBLISH, "mid": mid, "qos": 0, "pos": pos, "to_process": 10, "packet": b"", "info": None}

    sent = SimpleNamespace(mid=7, rc=mqtt.MQTT_ERR_SUCCESS)
    waiting = publisher(packet(3), packet(7))
    assert waiting._withdraw_qos0(sent) == "withdrawn"  # type: ignore[arg-type]
    assert [p["mid"] for p in waiting._client._out_packet] == [3]
    assert publisher(packet(7, pos=4))._withdraw_qos0(sent) == "writing"  # type: ignore[arg-type]
    assert publisher(packet(3))._withdraw_qos0(sent) == "writing"  # type: ignore[arg-type]
    unsent = SimpleNamespace(mid=7, rc=mqtt.MQTT_ERR_NO_CONN)
    assert publisher()._withdraw_qos0(unsent) == "withdrawn"  # type: ignore[arg-type]
