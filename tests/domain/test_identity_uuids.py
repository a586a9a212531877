"""The aggregate UUIDs derived from public ids are uuid.uuid5's of the project's namespace, bit
for bit (the derivation is computed without UUID's constructor: domain/identity.py)."""

from __future__ import annotations

import pickle
import random
import uuid
from datetime import UTC, datetime

from domain import identity


def test_every_derived_uuid_is_uuid5_of_the_namespace():
    rng = random.Random(15)
    alphabet = "abcXYZ019_.-:/é€😀"
    instant = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=UTC)
    for _ in range(2000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        b = identity.execution_id(a or "j", "scheduled", instant)
        cases = {
            identity.job_uuid(a, b): f"job/{a}/{b}", identity.gateway_uuid(a): f"gateway/{a}",
            identity.execution_uuid(a, b): f"execution/{a}/{b}", identity.resource_monitor_uuid(a): f"resources/{a}",
            identity.fire_group_uuid(a, b): f"fire-group/{a}/{b}",
        }
        for derived, name in cases.items():
            expected = uuid.uuid5(identity._NAMESPACE, name)
            assert derived == expected and hash(derived) == hash(expected) and str(derived) == str(expected)
            assert derived.version == 5 and derived.variant == uuid.RFC_4122 and derived.is_safe == expected.is_safe
            assert pickle.loads(pickle.dumps(derived)) == expected
