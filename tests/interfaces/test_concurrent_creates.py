"""Many clients creating jobs in one gateway at once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Api, job_body

THREADS = 10
# One burst of 10 loses a race about 19 times in 20 today; three bursts make the check reliable.
BURSTS = 3


def burst(api: Api) -> list:
    """THREADS creates released at the same instant; returns their responses."""
    start = threading.Barrier(THREADS)

    def create(i: int):
        start.wait()
        return api.post("/jobs", job_body(name=f"concurrent {i}"))

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(create, range(THREADS)))


def listed(api: Api) -> list[str]:
    data = api.get("/jobs", params={"limit": 100}).json()["data"]
    assert data["total_jobs"] == len(data["jobs"])
    return [job["id"] for job in data["jobs"]]


def test_ten_concurrent_creates_in_one_gateway_all_succeed(http):
    for _ in range(BURSTS):
        api = Api(http, f"gw-{uuid.uuid4().hex[:10]}")
        responses = burst(api)
        assert [r.status_code for r in responses] == [201] * THREADS, [r.text for r in responses]
        ids = [r.json()["data"]["job_id"] for r in responses]
        assert len(set(ids)) == THREADS
        assert sorted(listed(api)) == sorted(ids)

