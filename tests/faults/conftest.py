"""Fixtures of the fault suite: one private PostgreSQL cluster per session (cases that restart it
restart this one: they run one after another), a Scenario per case in a directory of its own."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Scenario
from tests.faults.processes import WORKER_BIN, PgCluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[PgCluster]:
    if not WORKER_BIN.exists():
        pytest.skip(f"{WORKER_BIN} missing: run scripts/test.sh once to create the virtualenv")
    # Not under pytest's tmp dir: as root the server runs as its own user and must reach it.
    base = Path(tempfile.mkdtemp(prefix="gs-faults-pg-"))
    pg = PgCluster(base)
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def scenario(cluster: PgCluster) -> Iterator[Scenario]:
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        pytest.skip("no mosquitto binary: the fault suite runs its own broker")
    base = Path(tempfile.mkdtemp(prefix="gs-faults-"))
    s = Scenario(cluster, base)
    try:
        yield s
    finally:
        s.close()
        shutil.rmtree(base, ignore_errors=True)
