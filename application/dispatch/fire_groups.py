"""The open groups of runs due at one instant (FireGroup) a dispatcher knows of, so that the group
is completed in the transaction that records its last member's end, by whichever of this
process's writers records it: the outcome writer (a run's outcome) or the sweeper (a run closed
as interrupted at a takeover).

A group is known from the fire that recorded it, or, after a restart or a takeover, from the
first of its runs in flight the sweeper meets (then its members are read once). The leader's
sweep also completes a known group whose last members ended by another writer (a replica
recording a late outcome), read from the log; so a group whose members ended while no dispatcher
ran is completed by the next leader's first sweep."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.execution import FINAL, Execution
from domain.fire_group import FireGroup
from domain.identity import fire_group_id, fire_group_uuid


class OpenGroups:
    def __init__(self, app: Any, gateway_id: str) -> None:
        self.app, self.gateway_id = app, gateway_id
        self._groups: dict[UUID, dict[UUID, str | None]] = {}  # group -> member run -> final status (None: not ended)
        self._member_of: dict[UUID, UUID] = {}  # member run -> its group
        self._looked_up: set[UUID] = set()  # groups already read (found or not) since they were met
        # The groups this process recorded, as saved: completing one needs no read of the log. A copy
        # is handed out once; a later need (its save failed, another writer raced it) reads the log.
        self._kept: dict[UUID, FireGroup] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def opened(self, groups: Iterable[FireGroup], runs: Iterable[Execution] = ()) -> None:
        """Groups this process just recorded with their runs (`runs`: those among them at hand,
        whose ids need not be derived again)."""
        ids = {run.execution_id: run.id for run in runs}
        for group in groups:
            self._track(group.id, {ids.get(e) or self._run_id(e): None for e in group.execution_ids})
            self._kept[group.id] = group

    def met(self, executions: Iterable[Execution]) -> None:
        """Runs of this gateway found in flight (a takeover's sweep): the group of each one due at
        an instant, if one was recorded and is still open, becomes known with its members' state."""
        for execution in executions:
            if execution.id in self._member_of or execution.trigger != "scheduled" or execution.scheduled_for is None:
                continue
            group_id = fire_group_uuid(self.gateway_id, fire_group_id(execution.scheduled_for))
            if group_id in self._looked_up:
                continue
            self._looked_up.add(group_id)
            group = self._group(group_id)
            if group is not None and group.status == "running":
                self._track(group.id, {self._run_id(e): None for e in group.execution_ids})
                self.refresh(group.id, set(self._groups[group.id]))

    def refresh(self, group_id: UUID, runs: Iterable[UUID]) -> None:
        """Reads these members' runs from the log (they ended elsewhere, or were never loaded)."""
        members = self._groups.get(group_id)
        if members is None:
            return
        for run_id in runs:
            try:
                run: Execution = self.app.repository.get(run_id)
            except AggregateNotFoundError:  # never recorded (a duplicate fire's fallback): it will not run
                members[run_id] = "missed"
                continue
            if run.finished:
                members[run_id] = run.status

    def completions(self, ended: Iterable[Execution], now: datetime) -> list[FireGroup]:
        """The groups that `ended` (runs about to be recorded final) complete, each a fresh copy
        with its Completed event pending: to be saved with the runs. Nothing changes here until
        `recorded` says the save went through."""
        statuses: dict[UUID, dict[UUID, str | None]] = {}
        for run in ended:
            group_id = self._member_of.get(run.id)
            if group_id is not None and run.finished:
                statuses.setdefault(group_id, dict(self._groups[group_id]))[run.id] = run.status
        completed = []
        for group_id, members in statuses.items():
            if all(status in FINAL for status in members.values()):
                group = self._group(group_id)
                if group is not None and group.status == "running":
                    by_execution = {self._run_id(e): e for e in group.execution_ids}
                    group.complete_if_done({by_execution[r]: s for r, s in members.items() if s and r in by_execution},
                                           now=now)
                    completed.append(group)
        return completed

    def recorded(self, ended: Iterable[Execution], completed: Iterable[FireGroup]) -> None:
        for run in ended:
            group_id = self._member_of.get(run.id)
            if group_id is not None and run.finished:
                self._groups[group_id][run.id] = run.status
        for group in completed:
            self._forget(group.id)

    def settled(self, in_flight: set[UUID], now: datetime) -> list[FireGroup]:
        """The leader's sweep: known groups whose members not in flight any more are all final,
        read from the log where this process did not record their end; completed copies to save."""
        done = []
        for group_id, members in list(self._groups.items()):
            unknown = [r for r, s in members.items() if s is None and r not in in_flight]
            if unknown:
                self.refresh(group_id, unknown)
            if all(s in FINAL for s in members.values()):
                group = self._group(group_id)
                if group is None or group.status != "running":
                    self._forget(group_id)
                    continue
                by_execution = {self._run_id(e): e for e in group.execution_ids}
                group.complete_if_done({by_execution[r]: s for r, s in members.items() if s}, now=now)
                done.append(group)
        return done

    # ---- state -------------------------------------------------------------------------------

    def _run_id(self, execution_id: str) -> UUID:
        return Execution.id_for(self.gateway_id, execution_id)

    def _group(self, group_id: UUID) -> FireGroup | None:
        kept = self._kept.pop(group_id, None)
        if kept is not None:
            return kept
        try:
            return self.app.repository.get(group_id)  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            return None

    def _track(self, group_id: UUID, members: dict[UUID, str | None]) -> None:
        self._groups.setdefault(group_id, members)
        for run_id in members:
            self._member_of[run_id] = group_id

    def _forget(self, group_id: UUID) -> None:
        self._kept.pop(group_id, None)
        for run_id in self._groups.pop(group_id, {}):
            self._member_of.pop(run_id, None)
