"""The file executor: cleanup and archive act only on old matching files and never leave the root."""

from __future__ import annotations

import os
import tarfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.executors.files import FileExecutor
from application.executors.ports import ExecutionContext
from domain.actions import FileAction, parse_action

NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


def context(timeout: float = 10.0) -> ExecutionContext:
    suffix = uuid.uuid4().hex[:8]
    return ExecutionContext(job_id=f"job_{suffix}", job_name="Log Cleanup", execution_id=f"exec_{suffix}",
                            gateway_id="GW-3920A9", device_id="dev-7", now=NOW, parameters={},
                            timeout_seconds=timeout)


def make_file(path: Path, age_days: float, content: str = "data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    stamp = (NOW - timedelta(days=age_days)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def snapshot(root: Path) -> dict[str, float]:
    """Every entry below root (not following symlinks) with its mtime."""
    return {str(path.relative_to(root)): os.lstat(path).st_mtime for path in sorted(root.rglob("*"))}


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


def test_cleanup_deletes_only_old_matching_regular_files(root):
    old = make_file(root / "logs/app-1.log", age_days=10)
    recent = make_file(root / "logs/app-2.log", age_days=1)
    other = make_file(root / "logs/app.txt", age_days=30)
    (root / "logs/dir.log").mkdir()
    action = parse_action({"type": "file", "operation": "cleanup", "pattern": "logs/*.log", "retain_days": 7})
    result = FileExecutor(root).execute(action, context())
    assert result.status == "success", result.message
    assert not old.exists()
    assert recent.exists() and other.exists() and (root / "logs/dir.log").is_dir()
    expected = {"matched": 3, "deleted": 1, "kept_recent": 1, "skipped": 1, "errors": 0}
    assert {key: result.details[key] for key in expected} == expected
    assert result.details["bytes_freed"] == 4
    assert any("deleted logs/app-1.log" == line.message for line in result.logs)


def test_cleanup_with_recursive_pattern_and_zero_retention(root):
    make_file(root / "a/b/c.tmp", age_days=0.01)
    make_file(root / "d.tmp", age_days=0.5)
    keep = make_file(root / "a/keep.dat", age_days=100)
    result = FileExecutor(root).execute(
        parse_action({"type": "file", "operation": "cleanup", "pattern": "**/*.tmp", "retain_days": 0}), context())
    assert result.status == "success"
    assert result.details["deleted"] == 2
    assert snapshot(root).keys() == {"a", "a/b", "a/keep.dat"} and keep.exists()


def test_cleanup_with_nothing_old_succeeds_and_deletes_nothing(root):
    make_file(root / "x.log", age_days=1)
    before = snapshot(root)
    result = FileExecutor(root).execute(parse_action({"type": "file", "operation": "cleanup", "pattern": "*.log"}),
                                        context())
    assert result.status == "success" and result.details["deleted"] == 0
    assert snapshot(root) == before


def test_archive_moves_old_files_into_one_tar_gz(root):
    make_file(root / "logs/a.log", age_days=20, content="alpha")
    make_file(root / "logs/sub/b.log", age_days=9, content="beta")
    recent = make_file(root / "logs/c.log", age_days=2)
    ctx = context()
    action = parse_action({"type": "file", "operation": "archive", "pattern": "logs/**/*.log", "retain_days": 7})
    result = FileExecutor(root).execute(action, ctx)
    assert result.status == "success", result.message
    archive = root / result.details["archive"]
    assert archive.parent == root / "archive"
    assert archive.name == f"{ctx.job_id}-20250312T150000Z-{ctx.execution_id}.tar.gz"
    with tarfile.open(archive, "r:gz") as tar:
        assert sorted(tar.getnames()) == ["logs/a.log", "logs/sub/b.log"]
        assert tar.extractfile("logs/a.log").read() == b"alpha"
        assert tar.extractfile("logs/sub/b.log").read() == b"beta"
    assert not (root / "logs/a.log").exists() and not (root / "logs/sub/b.log").exists()
    assert recent.exists()
    assert result.details["archived"] == 2 and result.details["removed"] == 2
    assert not list((root / "archive").glob(".*partial"))


def test_archive_does_not_swallow_its_own_archives(root):
    make_file(root / "old.gz", age_days=30)
    executor = FileExecutor(root)
    action = parse_action({"type": "file", "operation": "archive", "pattern": "**/*.gz", "destination": "arch"})
    first = executor.execute(action, context())
    second = executor.execute(action, context())
    assert first.details["archived"] == 1
    assert second.status == "success" and second.details["archived"] == 0
    assert len(list((root / "arch").iterdir())) == 1


def refused_and_untouched(root: Path, action: FileAction) -> None:
    before = snapshot(root)
    result = FileExecutor(root).execute(action, context())
    assert result.status == "failed"
    assert result.details["refused"] is True
    assert "nothing was touched" in result.message
    assert snapshot(root) == before


@pytest.mark.parametrize("pattern", ["../outside/*.log", "/etc/*", "logs/../../outside/*.log"])
def test_patterns_leaving_the_root_are_refused(tmp_path, root, pattern):
    outside = make_file(tmp_path / "outside/secret.log", age_days=100)
    make_file(root / "logs/a.log", age_days=100)
    stamp = outside.stat().st_mtime
    # built directly: the domain refuses these too, the executor must not rely on that
    refused_and_untouched(root, FileAction(operation="cleanup", pattern=pattern, retain_days=0))
    assert outside.exists() and outside.stat().st_mtime == stamp


def test_a_symlink_inside_the_root_pointing_outside_is_refused(tmp_path, root):
    outside = make_file(tmp_path / "outside/secret.log", age_days=100)
    make_file(root / "logs/a.log", age_days=100)
    (root / "logs/escape.log").symlink_to(outside)
    refused_and_untouched(root, parse_action({"type": "file", "operation": "cleanup", "pattern": "logs/*.log"}))
    assert outside.exists() and (root / "logs/a.log").exists()


def test_a_symlinked_directory_pointing_outside_is_refused(tmp_path, root):
    outside = make_file(tmp_path / "outside/secret.log", age_days=100)
    make_file(root / "a.log", age_days=100)
    (root / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    for pattern in ["linked/*.log", "*/*.log", "linked/nothing-matches-*"]:
        refused_and_untouched(root, parse_action({"type": "file", "operation": "cleanup", "pattern": pattern}))
    assert outside.exists()


def test_an_archive_destination_symlinked_outside_is_refused(tmp_path, root):
    (tmp_path / "outside").mkdir()
    make_file(root / "a.log", age_days=100)
    (root / "archive").symlink_to(tmp_path / "outside", target_is_directory=True)
    refused_and_untouched(root, parse_action({"type": "file", "operation": "archive", "pattern": "*.log"}))
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_symlink_inside_the_root_to_a_file_inside_is_skipped_not_followed(root):
    target = make_file(root / "keep/target.dat", age_days=100)
    (root / "link.log").symlink_to(target)
    result = FileExecutor(root).execute(
        parse_action({"type": "file", "operation": "cleanup", "pattern": "*.log", "retain_days": 0}), context())
    assert result.status == "success"
    assert result.details["skipped"] == 1 and result.details["deleted"] == 0
    assert target.exists() and (root / "link.log").is_symlink()


def test_missing_root_fails_cleanly(tmp_path):
    result = FileExecutor(tmp_path / "absent").execute(
        parse_action({"type": "file", "operation": "cleanup", "pattern": "*.log"}), context())
    assert result.status == "failed" and "not a directory" in result.message


def test_running_out_of_time_while_matching_touches_nothing(root):
    make_file(root / "a.log", age_days=100)
    before = snapshot(root)
    result = FileExecutor(root).execute(
        parse_action({"type": "file", "operation": "cleanup", "pattern": "*.log"}), context(timeout=0))
    assert result.status == "failed" and result.details["error_code"] == "EXECUTION_TIMEOUT"
    assert snapshot(root) == before
