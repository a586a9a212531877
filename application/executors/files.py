"""The file executor: cleanup and archive of old files, confined to one root directory."""

from __future__ import annotations

import os
import re
import stat
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from application.executors.log import ExecutionLog
from application.executors.ports import (
    EXECUTION_TIMEOUT,
    ExecutionContext,
    ExecutionResult,
)
from domain.actions import (
    DEFAULT_ARCHIVE_DESTINATION,
    Action,
    FileAction,
    check_relative_path,
)
from domain.errors import ValidationFailed

_GLOB_MAGIC = re.compile(r"[*?\[]")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class Refused(Exception):
    """The operation would reach outside the root: nothing has been touched."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class TimedOut(Exception):
    """The deadline passed while planning: nothing has been touched."""


@dataclass
class _Plan:
    """The files an operation will act on, decided before anything is touched."""

    targets: list[tuple[Path, str, int]] = field(default_factory=list)  # real path, name in root, size
    matched: int = 0
    kept_recent: int = 0
    skipped: int = 0


class FileExecutor:
    """Runs `cleanup` and `archive`; every path is resolved and must stay below `root`."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()

    def execute(self, action: Action, ctx: ExecutionContext) -> ExecutionResult:
        log = ExecutionLog()
        if not isinstance(action, FileAction) or action.operation not in ("cleanup", "archive"):
            operation = getattr(action, "operation", action.type)
            return ExecutionResult.failure(f"file operation {operation!r} is not supported", log,
                                           error_code="ACTION_NOT_SUPPORTED")
        if not self._root.is_dir():
            return ExecutionResult.failure(f"file root {self._root} is not a directory", log)
        deadline = ctx.deadline()
        base = {"operation": action.operation, "pattern": action.pattern}
        try:
            destination = self._destination(action)
            plan = self._plan(action, ctx, deadline, destination)
        except Refused as refusal:
            log.error(f"refused: {refusal.reason}" + (f" ({refusal.path})" if refusal.path else ""))
            return ExecutionResult.failure(f"file {action.operation} refused: {refusal.reason}; nothing was touched",
                                           log, refused=True, reason=refusal.reason, path=refusal.path, **base)
        except TimedOut:
            return ExecutionResult.failure(
                f"file {action.operation} timed out after {ctx.timeout_seconds:g}s while matching; nothing was touched",
                log, error_code=EXECUTION_TIMEOUT, **base)
        counts = {"matched": plan.matched, "kept_recent": plan.kept_recent, "skipped": plan.skipped}
        log.info(f"{plan.matched} matched {action.pattern!r}: {len(plan.targets)} older than "
                 f"{action.retain_days} days, {plan.kept_recent} recent, {plan.skipped} not regular files")
        if destination is None:
            return self._cleanup(plan, log, **base, **counts)
        return self._archive(plan, destination, ctx, deadline, log, **base, **counts)

    def _destination(self, action: FileAction) -> Path | None:
        if action.operation != "archive":
            return None
        name = action.destination or DEFAULT_ARCHIVE_DESTINATION
        self._check_relative(name)
        destination = self._confined(self._root / name, name)
        if destination == self._root:
            raise Refused("the archive destination must be a directory below the root", name)
        if destination.exists() and not destination.is_dir():
            raise Refused("the archive destination exists and is not a directory", name)
        return destination

    def _plan(self, action: FileAction, ctx: ExecutionContext, deadline: float, destination: Path | None) -> _Plan:
        self._check_relative(action.pattern)
        prefix: list[str] = []
        for part in _parts(action.pattern):
            if _GLOB_MAGIC.search(part):
                break
            prefix.append(part)
        self._confined(self._root.joinpath(*prefix), action.pattern)
        cutoff = ctx.now_utc().timestamp() - action.retain_days * 86400
        plan = _Plan()
        seen: set[Path] = set()
        targets: dict[Path, tuple[Path, str, int]] = {}
        try:
            matches = self._root.glob(action.pattern)
            for match in matches:
                if time.monotonic() > deadline:
                    raise TimedOut
                real = self._confined(match, str(match.relative_to(self._root)))
                if match in seen or (destination is not None and real.is_relative_to(destination)):
                    continue
                seen.add(match)
                plan.matched += 1
                info = os.lstat(match)
                if not stat.S_ISREG(info.st_mode):
                    plan.skipped += 1
                elif info.st_mtime >= cutoff:
                    plan.kept_recent += 1
                elif real not in targets:  # one file reached twice (through a symlinked directory) is one target
                    targets[real] = (real, real.relative_to(self._root).as_posix(), info.st_size)
        except (OSError, ValueError, NotImplementedError) as error:
            raise Refused(f"pattern could not be matched: {error}", action.pattern) from None
        plan.targets = sorted(targets.values(), key=lambda target: target[1])
        return plan

    def _cleanup(self, plan: _Plan, log: ExecutionLog, **details: object) -> ExecutionResult:
        deleted, freed, errors = 0, 0, 0
        for real, name, size in plan.targets:
            try:
                self._remove(real, name)
            except (OSError, Refused) as error:
                errors += 1
                log.error(f"could not delete {name}: {error}")
                continue
            deleted += 1
            freed += size
            log.info(f"deleted {name}")
        details.update(deleted=deleted, bytes_freed=freed, errors=errors)
        if errors:
            return ExecutionResult.failure(f"cleanup deleted {deleted} files, {errors} could not be deleted",
                                           log, **details)
        return ExecutionResult.success(f"cleanup deleted {deleted} files ({freed} bytes)", log, **details)

    def _archive(self, plan: _Plan, destination: Path, ctx: ExecutionContext, deadline: float,
                 log: ExecutionLog, **details: object) -> ExecutionResult:
        if not plan.targets:
            details.update(archived=0, removed=0, archive=None)
            return ExecutionResult.success("archive: no files old enough to archive", log, **details)
        destination.mkdir(parents=True, exist_ok=True)
        archive = self._archive_path(destination, ctx)
        partial = archive.with_name(f".{archive.name}.partial")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                for real, name, _size in plan.targets:
                    if time.monotonic() > deadline:
                        raise TimedOut
                    tar.add(real, arcname=name, recursive=False)
            os.replace(partial, archive)
        except (OSError, tarfile.TarError, TimedOut) as error:
            partial.unlink(missing_ok=True)
            extra = {"error_code": EXECUTION_TIMEOUT} if isinstance(error, TimedOut) else {}
            reason = "timed out" if isinstance(error, TimedOut) else str(error)
            return ExecutionResult.failure(f"archive not written ({reason}); no original was removed", log,
                                           **details, **extra)
        archive_name = archive.relative_to(self._root).as_posix()
        log.info(f"wrote {archive_name} with {len(plan.targets)} files")
        removed, errors = 0, 0
        for real, name, _size in plan.targets:
            try:
                self._remove(real, name)
                removed += 1
            except (OSError, Refused) as error:
                errors += 1
                log.error(f"archived but could not remove {name}: {error}")
        details.update(archived=len(plan.targets), removed=removed, errors=errors, archive=archive_name,
                       bytes=sum(size for _real, _name, size in plan.targets))
        if errors:
            return ExecutionResult.failure(f"archived {len(plan.targets)} files to {archive_name}, "
                                           f"{errors} originals could not be removed", log, **details)
        return ExecutionResult.success(f"archived {len(plan.targets)} files to {archive_name}", log, **details)

    def _archive_path(self, destination: Path, ctx: ExecutionContext) -> Path:
        stem = "-".join(_UNSAFE_NAME_CHARS.sub("_", part) for part in (
            ctx.job_id, ctx.now_utc().strftime("%Y%m%dT%H%M%SZ"), ctx.execution_id))
        candidate, counter = destination / f"{stem}.tar.gz", 1
        while candidate.exists():
            counter += 1
            candidate = destination / f"{stem}-{counter}.tar.gz"
        return candidate

    def _remove(self, real: Path, name: str) -> None:
        # re-check right before acting: the tree may have changed since the plan was made
        current = self._confined(self._root / name, name)
        if current != real or not stat.S_ISREG(os.lstat(real).st_mode):
            raise Refused("file changed since it was matched", name)
        os.unlink(real)

    def _confined(self, path: Path, shown: str) -> Path:
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as error:
            raise Refused(f"path cannot be resolved: {error}", shown) from None
        if not real.is_relative_to(self._root):
            raise Refused("path resolves outside the file root", shown)
        return real

    @staticmethod
    def _check_relative(path: str) -> None:
        try:
            check_relative_path(path, "action")
        except ValidationFailed as error:
            raise Refused(error.details["reason"], path) from None


def _parts(pattern: str) -> list[str]:
    return [part for part in pattern.replace("\\", "/").split("/") if part not in ("", ".")]
