"""The composition root: wires the database, the application, the projections and the worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from eventsourcing.postgres import PostgresDatastore

from application.clock import Clock, utc_now
from application.operations import Operations
from application.scheduler import Scheduler
from interfaces.api.response_cache import ResponseCache
from interfaces.database import (
    EmbeddedPostgres,
    conninfo,
    eventsourcing_env,
    hold_read_models,
    migrate,
)
from interfaces.settings import Settings
from projections.execution_groups import ExecutionGroupsProjection, ExecutionGroupsView
from projections.analytics import AnalyticsProjection, AnalyticsView
from projections.audit import AuditProjection, AuditView
from projections.execution_history import (
    ExecutionHistoryProjection,
    ExecutionHistoryView,
)
from projections.gateways import GatewaysProjection, GatewaysView
from projections.job_list import JobListProjection, JobListView
from projections.progress import Progress
from projections.read_store import ReadStore
from projections.runner import ProjectionThread

_log = logging.getLogger(__name__)


def _datastore(env: dict[str, str], size: int) -> PostgresDatastore:
    return PostgresDatastore(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"], connect_timeout=2,
        pool_size=size, pre_ping=True, lock_timeout=5, idle_in_transaction_session_timeout=10,
    )


@dataclass
class Runtime:
    """Everything one process runs; `start()` then `close()`."""

    settings: Settings
    clock: Clock = utc_now
    embedded: EmbeddedPostgres | None = None
    url: str = ""
    app: Scheduler = field(init=False)
    reads: ReadStore = field(init=False)
    operations: Operations = field(init=False)  # the guard of bulk operations and imports
    progress: Progress = field(default_factory=Progress)
    projections: list[ProjectionThread] = field(default_factory=list)
    _datastore: PostgresDatastore | None = None
    _read_models_lock: Any = None  # psycopg connection holding the shared read-models lock
    workers: dict[str, Any] = field(default_factory=dict)  # gateway id -> interfaces.worker.Worker
    # application.dispatch.process.DispatchProcess: what this process's dispatchers share
    dispatch_process: Any = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Encoded GET /jobs answers, keyed by (gateway, filter) and valid at one job-list position.
    list_cache: ResponseCache = field(default_factory=ResponseCache)

    @property
    def offline_after(self) -> timedelta:
        return timedelta(seconds=self.settings.offline_after_seconds)

    def start(self, *, follow: bool = True) -> Runtime:
        """`follow=False` builds the projections without running them (a rebuild runs them itself)."""
        if self.settings.database_url:
            self.url = self.settings.database_url
        else:
            self.embedded = EmbeddedPostgres(self.settings.data_dir / "pgdata")
            self.url = self.embedded.url
        applied = migrate(self.url)
        if applied:
            _log.info("migrations applied: %s", ", ".join(applied))
        env = eventsourcing_env(self.url, pool_size=self.settings.pool_size)
        self.app = Scheduler(env, clock=self.clock, max_jobs=self.settings.max_jobs_per_gateway)
        self.reads = ReadStore(conninfo(self.url), size=self.settings.pool_size)
        self.list_cache = ResponseCache(self.settings.list_cache_pages)
        self.reads.open()
        self.operations = Operations(conninfo(self.url), self.clock)
        self._datastore = _datastore(env, 4)
        for projection in (
            JobListProjection(JobListView(self._datastore)), GatewaysProjection(GatewaysView(self._datastore)),
            ExecutionHistoryProjection(ExecutionHistoryView(self._datastore)),
            ExecutionGroupsProjection(ExecutionGroupsView(self._datastore)),
            AuditProjection(AuditView(self._datastore)),
            AnalyticsProjection(AnalyticsView(self._datastore)),
        ):
            thread = ProjectionThread(self.app, projection, self.progress)
            self.projections.append(thread)
        if follow:
            self._read_models_lock = hold_read_models(self.url)  # a rebuild waits until this process stops
            for thread in self.projections:
                thread.start()
        return self

    def running_count(self, gateway_id: str) -> int:
        """Executions running now in this process's worker for the gateway (0 without one)."""
        worker = self.workers.get(gateway_id)
        return worker.running_count() if worker is not None else 0

    def wait(self, recorded: tuple[tuple[str, int], ...], timeout: float = 5.0) -> bool:
        return self.progress.wait(recorded, timeout)

    def close(self) -> None:
        """Stops the worker parts first (newest first), then projections, pools and the database."""
        while self.closers:
            try:
                self.closers.pop()()
            except Exception:  # noqa: BLE001 - closing is best effort, log and go on
                _log.exception("error while stopping")
        for thread in self.projections:
            thread.stop()
        self.projections.clear()
        if self._read_models_lock is not None:
            self._read_models_lock.close()
            self._read_models_lock = None
        for closer in (getattr(self, "operations", None), getattr(self, "reads", None), getattr(self, "app", None),
                       self._datastore):
            if closer is not None:
                try:
                    closer.close()
                except Exception:  # noqa: BLE001 - closing is best effort, log and go on
                    _log.exception("error while closing %r", closer)
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
