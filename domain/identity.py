"""Public ids (job_..., exec_...) and the aggregate UUIDs derived from them."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import datetime
from uuid import UUID, SafeUUID

from domain.errors import ValidationFailed

_NAMESPACE = UUID("6f1c2a57-9c7e-4d1e-9a55-2b1f0c7d9e31")
_NAMESPACE_BYTES = _NAMESPACE.bytes
_VERSION_5 = ~(0xC000 << 48) & ~(0xF000 << 64), (0x8000 << 48) | (5 << 76)  # bits cleared, bits set
_GATEWAY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # fullmatch: `$` lets a trailing newline through


def _uuid5(name: str) -> UUID:
    """`uuid.uuid5(_NAMESPACE, name)`, the same UUID at half the cost: the dispatcher derives one
    or two for every fire, and UUID's own constructor checks its arguments at length."""
    value = int.from_bytes(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16], "big")
    uuid = object.__new__(UUID)
    object.__setattr__(uuid, "int", (value & _VERSION_5[0]) | _VERSION_5[1])
    object.__setattr__(uuid, "is_safe", SafeUUID.unknown)
    return uuid


def check_gateway_id(gateway_id: str) -> str:
    if not isinstance(gateway_id, str) or not _GATEWAY_ID.fullmatch(gateway_id):
        raise ValidationFailed(
            "Gateway id must be 1-64 letters, digits, '.', '_', ':' or '-'",
            {"field": "gateway_id", "reason": "invalid format"},
        )
    return gateway_id


def check_job_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise ValidationFailed(
            "Job id must be 1-64 letters, digits, '.', '_' or '-'",
            {"field": "job_id", "reason": "invalid format"},
        )
    return job_id


def new_job_id() -> str:
    """A short, URL-safe, random public job id such as `job_k3v9q2mz7d4a`."""
    return "job_" + base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]


def job_uuid(gateway_id: str, job_id: str) -> UUID:
    """The aggregate id of a job: stable, so an export re-imported keeps its ids."""
    return _uuid5(f"job/{gateway_id}/{job_id}")


def gateway_uuid(gateway_id: str) -> UUID:
    return _uuid5(f"gateway/{gateway_id}")


def execution_id(job_id: str, trigger: str, instant: datetime, nonce: str = "") -> str:
    """Execution ids of scheduled fires are derived from the job and the due instant,
    so two replicas that fire the same instant produce the same id and collide."""
    i = instant
    stamp = f"{i.year:04d}{i.month:02d}{i.day:02d}{i.hour:02d}{i.minute:02d}{i.second:02d}{i.microsecond // 1000:03d}"
    suffix = nonce or hashlib.blake2b(f"{job_id}/{trigger}/{i.isoformat()}".encode(), digest_size=4).hexdigest()
    return f"exec_{stamp}_{suffix}"


def execution_uuid(gateway_id: str, execution_id: str) -> UUID:
    return _uuid5(f"execution/{gateway_id}/{execution_id}")


def resource_monitor_uuid(gateway_id: str) -> UUID:
    return _uuid5(f"resources/{gateway_id}")


def fire_group_id(instant: datetime) -> str:
    """The public id of the group of a gateway's jobs due at one instant (`schedule_id` on the wire)."""
    i = instant
    return f"instant_{i.year:04d}{i.month:02d}{i.day:02d}{i.hour:02d}{i.minute:02d}{i.second:02d}{i.microsecond // 1000:03d}"


def fire_group_uuid(gateway_id: str, group_id: str) -> UUID:
    return _uuid5(f"fire-group/{gateway_id}/{group_id}")
