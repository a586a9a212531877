"""The MQTT publisher: one long-lived paho client that renders and publishes `publish` actions."""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from application.executors.log import ExecutionLog
from application.executors.ports import (
    DELIVERY_UNKNOWN,
    EXECUTION_TIMEOUT,
    ExecutionContext,
    ExecutionResult,
)
from domain.actions import Action, PublishAction
from domain.templates import render_template

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_QUEUED_MESSAGES = 1000
WRITING_GRACE = 1.0  # seconds a publish being written at its deadline has to finish
_PLAIN_SCHEMES = {"mqtt": 1883, "tcp": 1883}
_TLS_SCHEMES = {"mqtts": 8883, "ssl": 8883}


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _PLAIN_SCHEMES and scheme not in _TLS_SCHEMES:
            raise ValueError(f"MQTT URL scheme must be mqtt:// or mqtts://, got {parts.scheme!r}")
        default_port = _TLS_SCHEMES.get(scheme) or _PLAIN_SCHEMES[scheme]
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or default_port,
            tls=scheme in _TLS_SCHEMES,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def __str__(self) -> str:  # never shows the credentials
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def _published(info: mqtt.MQTTMessageInfo) -> bool:
    """Acknowledged (QoS 1/2) or sent (QoS 0). paho's `is_published()` raises for a message queued
    while disconnected (its result code stays NO_CONN even once a reconnect delivered it)."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        with info._condition:
            return bool(info._published)


def _wait_published(info: mqtt.MQTTMessageInfo, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _published(info) and time.monotonic() < deadline:
        time.sleep(0.01)
    return _published(info)


class MqttPublisher:
    """Publishes with QoS 0 (handed to the socket), 1 or 2 (acknowledged by the broker), within the timeout."""

    def __init__(self, url: str = "mqtt://127.0.0.1:1883", client_id: str | None = None) -> None:
        self._address = BrokerAddress.parse(url)
        self._state_changed = threading.Condition()
        self._connected = False
        self._attempt_failed = False  # the last connection attempt failed and no new one has succeeded
        self._last_error = "no connection attempt yet"
        self._closed = False
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"gateway-scheduler-{uuid.uuid4().hex[:12]}",
        )
        self._client.max_queued_messages_set(MAX_QUEUED_MESSAGES)
        self._client.reconnect_delay_set(min_delay=1, max_delay=2)  # back within ~2 s of the broker
        if self._address.username is not None:
            self._client.username_pw_set(self._address.username, self._address.password)
        if self._address.tls:
            self._client.tls_set_context(ssl.create_default_context())
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.connect_async(self._address.host, self._address.port, keepalive=30)
        self._client.loop_start()

    @property
    def address(self) -> str:
        return str(self._address)

    def ping(self) -> bool:
        """True while connected to the broker (for health checks)."""
        return self._connected

    def close(self) -> None:
        with self._state_changed:
            if self._closed:
                return
            self._closed = True
        self._client.disconnect()
        self._client.loop_stop()

    def execute(self, action: Action, ctx: ExecutionContext) -> ExecutionResult:
        log = ExecutionLog()
        if not isinstance(action, PublishAction):
            return ExecutionResult.failure(f"MQTT publisher cannot run a {action.type} action", log)
        deadline = ctx.deadline()
        payload = render_template(action.payload_template, ctx.template_variables()).encode("utf-8")
        if len(payload) > MAX_PAYLOAD_BYTES:
            return ExecutionResult.failure(
                f"rendered payload is {len(payload)} bytes, above the {MAX_PAYLOAD_BYTES}-byte limit", log)
        log.info(f"publishing {len(payload)} bytes to {action.topic!r} (qos {action.qos}, retain {action.retain})")
        if not self._wait_connected(deadline):
            timed_out = not self._attempt_failed
            return ExecutionResult.failure(
                f"MQTT broker {self._address} unreachable: {self._last_error}", log,
                broker=str(self._address), **({"error_code": EXECUTION_TIMEOUT} if timed_out else {}))
        info = self._client.publish(action.topic, payload, qos=action.qos, retain=action.retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # NO_CONN: queued for the reconnect
            self._withdraw(info.mid)
            return ExecutionResult.failure(
                f"publish to {action.topic!r} refused by the client: {mqtt.error_string(info.rc)}", log,
                broker=str(self._address))
        while not _published(info) and time.monotonic() < deadline:
            try:
                info.wait_for_publish(timeout=min(0.05, max(deadline - time.monotonic(), 0.0)))
            except (RuntimeError, ValueError):  # queued while disconnected: paho sends it on reconnect
                time.sleep(0.02)
        if not _published(info):
            # paho would still send a queued message after a reconnect: take it back, so that a
            # publish reported failed is never delivered later. One already sent but never
            # acknowledged may have reached the broker: its failure says so and is not retried.
            waited = "acknowledged by the broker" if action.qos else "sent"
            withdrawn = self._withdraw(info.mid) if action.qos else self._withdraw_qos0(info)
            if withdrawn == "writing":  # being written to the socket right now: done in moments
                withdrawn = "done" if _wait_published(info, WRITING_GRACE) else "unknown"
            if withdrawn == "unknown":
                return ExecutionResult.failure(
                    f"publish to {action.topic!r} sent but not {waited} within {ctx.timeout_seconds:g}s;"
                    " it may have reached the broker", log, broker=str(self._address), error_code=DELIVERY_UNKNOWN)
            if _published(info):
                pass  # acknowledged while being withdrawn: a success after all
            else:
                return ExecutionResult.failure(
                    f"publish to {action.topic!r} not {waited} within {ctx.timeout_seconds:g}s; not sent", log,
                    broker=str(self._address), error_code=EXECUTION_TIMEOUT)
        what = "acknowledged by the broker" if action.qos else "sent"
        return ExecutionResult.success(
            f"published {len(payload)} bytes to {action.topic!r}, {what}", log,
            topic=action.topic, qos=action.qos, retain=action.retain, payload_bytes=len(payload),
            message_id=info.mid)

    def _withdraw(self, mid: int) -> str:
        """Remove a message from paho's outgoing queue: "withdrawn" (it was never sent),
        "unknown" (sent at least once, not acknowledged) or "done" (already acknowledged)."""
        client = self._client
        awaiting = (mqtt.mqtt_ms_wait_for_puback, mqtt.mqtt_ms_wait_for_pubrec, mqtt.mqtt_ms_wait_for_pubcomp)
        with client._out_message_mutex:  # paho offers no public way to cancel a queued publish
            message = client._out_messages.pop(mid, None)
            if message is None:
                return "done"
            if message.state in awaiting:  # paho counts exactly these as in flight
                client._inflight_messages = max(0, client._inflight_messages - 1)
            sent = message.dup or message.state in (*awaiting, mqtt.mqtt_ms_resend_pubrel)
            return "unknown" if sent else "withdrawn"

    def _withdraw_qos0(self, info: mqtt.MQTTMessageInfo) -> str:
        """A QoS 0 publish is never in paho's message store: it waits in the outgoing packets until
        the network thread takes it to write it, and is marked sent only after the write.
        "withdrawn" (taken out while it waited) or "writing" (taken or partly written: on its way;
        a process paused in that window and resumed past the deadline must not call a delivered
        message unsent)."""
        packets = self._client._out_packet
        packet = next((p for p in list(packets) if p["mid"] == info.mid and (p["command"] & 0xF0) == mqtt.PUBLISH), None)
        if packet is not None and packet["pos"] == 0:
            try:
                packets.remove(packet)
                return "withdrawn"
            except ValueError:  # taken by the network thread meanwhile
                return "writing"
        return "writing" if packet is not None or info.rc == mqtt.MQTT_ERR_SUCCESS else "withdrawn"

    def _wait_connected(self, deadline: float) -> bool:
        """Wait for a connection, giving up at the deadline or as soon as an attempt has failed."""
        with self._state_changed:
            while not self._connected and not self._attempt_failed and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._state_changed.wait(remaining)
            return self._connected

    def _set_state(self, connected: bool, attempt_failed: bool, error: str | None = None) -> None:
        with self._state_changed:
            self._connected = connected
            self._attempt_failed = attempt_failed
            if error is not None:
                self._last_error = error
            self._state_changed.notify_all()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._set_state(False, True, f"connection refused by the broker: {reason_code}")
        else:
            self._set_state(True, False)

    def _on_connect_fail(self, client, userdata) -> None:
        self._set_state(False, True, "connection failed (broker down or not reachable)")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        # after a drop a reconnect is pending: wait for its outcome rather than fail straight away;
        # after a refused attempt the failure stands until an attempt succeeds
        was_connected = self._connected
        error = f"{'disconnected' if was_connected else 'connection failed'}: {reason_code}"
        self._set_state(False, self._attempt_failed or not was_connected, error)
