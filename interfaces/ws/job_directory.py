"""Who a Job aggregate is (its gateway, job id and tags) for the live feed's mapping of the Job
events after Created, which do not name them (interfaces/ws/routing.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.job import Job
from interfaces.ws.messages import JobRef
from interfaces.ws.routing import ref_of_created


class JobDirectory:
    """Job aggregate id -> its gateway and job id (never change) and its tags as last seen, from
    the Created and Updated events that pass, else read once from the job's events. Only the Job
    events after Created need it (rare: configuration changes); Toggled and Deleted carry their
    tags since v2, so the tags here matter only for older ones."""

    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._refs: dict[UUID, JobRef] = {}

    def learn(self, event: Any) -> None:
        ref = ref_of_created(event)
        if ref is not None:
            self._refs[event.originator_id] = ref
        elif isinstance(event, Job.Updated) and (known := self._refs.get(event.originator_id)) is not None:
            self._refs[event.originator_id] = JobRef(known.gateway_id, known.job_id, tuple(event.tags))

    def ref(self, event: Any) -> JobRef | None:
        ref = self._refs.get(event.originator_id)
        if ref is None:
            ref = None
            for earlier in self._hub.app.events.get(event.originator_id, lte=event.originator_version):
                if isinstance(earlier, Job.Created):
                    ref = ref_of_created(earlier)
                elif isinstance(earlier, Job.Updated) and ref is not None:
                    ref = JobRef(ref.gateway_id, ref.job_id, tuple(earlier.tags))
            if ref is not None:
                self._refs[event.originator_id] = ref
        return ref
