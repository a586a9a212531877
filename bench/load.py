"""Load generators of the API bench: wrk (with --latency) when installed, else httpx threads."""

from __future__ import annotations

import json
import random
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

PREFIX = "/api/v1/scheduler"


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Modbus Poll",
        "description": "Poll Modbus devices for sensor data",
        "type": "interval",
        "enabled": True,
        "schedule": {"interval_seconds": 10},
        "action": {"type": "publish", "topic": "device/data/modbus", "payload_template": '{"t": "${NOW}"}'},
        "tags": ["bench", "polling"],
    }
    body.update(overrides)
    return body


# ---- servers ------------------------------------------------------------------------------------

def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def httpx_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Sync httpx, one keep-alive client per thread; requests/s and latency percentiles (ms)."""
    import httpx

    threads, seconds, warmup = spec["connections"], spec["seconds"], spec["warmup"]
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    body = json.dumps(spec["body"]).encode() if spec.get("body") is not None else None

    def worker(i: int) -> None:
        with httpx.Client(headers=spec["headers"], timeout=30.0) as client:
            while True:
                t0 = time.monotonic()
                if t0 >= stop_at:
                    return
                url = spec["url"]
                if spec.get("paths"):
                    base = url.split("/", 3)[:3]
                    url = "/".join(base) + random.choice(spec["paths"])
                elif spec.get("vary_offset"):
                    url = url.split("?")[0] + f"?limit=50&offset={random.randint(0, 950)}"
                extra = {"X-Gateway-ID": random.choice(spec["gateways"])} if spec.get("gateways") else None
                response = client.request(spec["method"], url, content=body, headers=extra)
                t1 = time.monotonic()
                if t0 >= start_at:
                    latencies[i].append(t1 - t0)
                    if response.status_code >= 400:
                        errors[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    merged = sorted(x for per in latencies for x in per)
    return {
        "requests": len(merged), "rps": len(merged) / seconds, "errors": sum(errors),
        "p50_ms": _percentile(merged, 50) * 1000, "p99_ms": _percentile(merged, 99) * 1000,
    }


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def wrk_load(spec: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """wrk with --latency; warm-up run first, then the measured run."""
    lua = tmp / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    lines = [f"wrk.method = {json.dumps(spec['method'])}"]
    for name, value in spec["headers"].items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if spec.get("body") is not None:
        lines.append("wrk.headers['Content-Type'] = 'application/json'")
        lines.append(f"wrk.body = {json.dumps(json.dumps(spec['body']))}")
    # Each wrk thread seeds its own generator (a table's address differs between threads).
    lines.append("init = function(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000) end")
    body_of_request = []
    if spec.get("gateways"):  # each request in one of these gateways, at random
        lines.append("gateways = {%s}" % ", ".join(json.dumps(g) for g in spec["gateways"]))
        body_of_request.append("wrk.headers['X-Gateway-ID'] = gateways[math.random(#gateways)]")
    if spec.get("paths"):  # each request one of these paths, at random
        lines.append("paths = {%s}" % ", ".join(json.dumps(p) for p in spec["paths"]))
        body_of_request.append("return wrk.format(nil, paths[math.random(#paths)])")
    elif spec.get("vary_offset"):
        # Every request a random page of 50 out of 1,000 jobs.
        from urllib.parse import urlsplit

        path = urlsplit(spec["url"]).path + "?limit=50&offset="
        body_of_request.append("return wrk.format(nil, %s .. math.random(0, 950))" % json.dumps(path))
    else:
        body_of_request.append("return wrk.format()")
    if spec.get("gateways") or spec.get("paths") or spec.get("vary_offset"):
        lines.append("request = function() %s end" % " ".join(body_of_request))
    lua.write_text("\n".join(lines) + "\n")
    connections = spec["connections"]
    threads = min(connections, 2)

    def run(seconds: float) -> str:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
               "--timeout", "30s", "-s", str(lua), spec["url"]]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    if spec["warmup"] > 0:
        run(spec["warmup"])
    out = run(spec["seconds"])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", out, re.M))
    return {"requests": requests, "rps": rps, "errors": errors, "p50_ms": _ms(dist["50"]), "p99_ms": _ms(dist["99"])}




def visible_samples(spec: dict[str, Any]) -> dict[str, Any]:
    """Time from sending a POST to the first GET ?tags=<tag unique to the job> that lists it."""
    import httpx

    visible: list[float] = []
    post_only: list[float] = []
    extra_gets = 0
    with httpx.Client(base_url=spec["base"], headers=spec["headers"], timeout=30.0) as client:
        for i in range(spec["warmup"] + spec["samples"]):
            tag = f"vis-{uuid.uuid4().hex[:16]}"
            t0 = time.perf_counter()
            created = client.post(f"{PREFIX}/jobs", json=job_body(name=f"visible {i}", tags=[tag]))
            t1 = time.perf_counter()
            if created.status_code != 201:
                raise RuntimeError(f"POST /jobs answered {created.status_code}: {created.text[:300]}")
            job_id = created.json()["data"]["job_id"]
            gets = 0
            while True:
                gets += 1
                listed = client.get(f"{PREFIX}/jobs", params={"tags": tag, "limit": 1})
                if any(j["id"] == job_id for j in listed.json()["data"]["jobs"]):
                    break
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"job {job_id} not listed after 30 s")
            t2 = time.perf_counter()
            if i >= spec["warmup"]:
                visible.append((t2 - t0) * 1000)
                post_only.append((t1 - t0) * 1000)
                extra_gets += gets - 1
    visible.sort()
    post_only.sort()
    return {
        "samples": len(visible), "p50_ms": _percentile(visible, 50), "p99_ms": _percentile(visible, 99),
        "post_p50_ms": _percentile(post_only, 50), "post_p99_ms": _percentile(post_only, 99),
        "extra_gets": extra_gets,
    }
