"""The Scheduler's repository: the library's cached repository, handing out consistent copies.

eventsourcing 9.5.6 fast-forwards a cached aggregate in place under a per-aggregate lock, but
deep-copies it for the caller after releasing that lock. A copy taken while another thread
fast-forwards the same object can mix two versions. When the aggregate was loaded from a snapshot
its `_version` attribute comes after its state in `__dict__`, so such a copy can carry the newest
version with older state: a command then decides on stale state and its save succeeds. That let a
gateway exceed its job limit under a mix of creates, updates and deletes (issue 9): a create saw
fewer job ids than the gateway had. Here the copy is taken under the same lock."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from eventsourcing.application import Repository, project_aggregate


class ConsistentCopyRepository(Repository[Any]):
    @classmethod
    def like(cls, library: Repository[Any]) -> ConsistentCopyRepository:
        """One with the settings (and the cache) of the repository the library built."""
        repository = cls(
            event_store=library.event_store, snapshot_store=library.snapshot_store,
            fastforward=library.fastforward, fastforward_skipping=library.fastforward_skipping,
            deepcopy_from_cache=library.deepcopy_from_cache,
        )
        repository.cache = library.cache
        return repository

    def get(  # type: ignore[override]
        self,
        aggregate_id: Any,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if not (self.cache and version is None and deepcopy_from_cache and self.deepcopy_from_cache):
            return super().get(
                aggregate_id, version=version, projector_func=projector_func,
                fastforward_skipping=fastforward_skipping, deepcopy_from_cache=deepcopy_from_cache,
            )
        # Count as a user of the aggregate's fast-forward lock for the whole call, so the library's
        # fast-forward inside super().get() and the copy below use the same lock object.
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            cached = super().get(
                aggregate_id, projector_func=projector_func, fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=False,
            )
            with lock:
                return deepcopy(cached)
        finally:
            self._disuse_fastforward_lock(aggregate_id)
