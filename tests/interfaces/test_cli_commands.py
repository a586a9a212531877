"""The `gateway-scheduler` parser as the package assembles it (interfaces/cli): each command line
reaches the function of its command group that runs it, with its options parsed, and a usage
error exits 2. The commands themselves run in tests/e2e/test_cli*.py."""

from __future__ import annotations

import pytest

from interfaces.cli import access, events, jobs, migrate, parser, projections, serve

COMMANDS = [
    (["serve", "--port", "0", "--no-worker"], serve.serve, {"port": 0, "no_worker": True, "host": "127.0.0.1"}),
    (["worker", "--gateway-id", "gw-1"], serve.worker, {"gateway_id": "gw-1"}),
    (["migrate"], migrate.migrate, {}),
    (["events", "job-1", "--after", "5"], events.events, {"job_id": "job-1", "after": 5, "limit": 1000}),
    (["projections", "rebuild", "--name", "audit"], projections.projections_rebuild, {"name": "audit"}),
    (["projections", "verify"], projections.projections_verify, {"name": "all"}),
    (["jobs", "export", "--gateway-id", "gw-1", "-o", "x.csv"], jobs.jobs_export,
     {"output": "x.csv", "format": None, "include_history": False, "no_statistics": False}),
    (["jobs", "import", "f.json", "--gateway-id", "gw-1", "--dry-run"], jobs.jobs_import,
     {"file": "f.json", "strategy": "merge", "dry_run": True, "plan_token": None}),
    (["token", "issue", "--role", "viewer", "--gateway", "*"], access.token_issue,
     {"role": "viewer", "gateway": "*", "subject": "cli", "ttl_hours": 24.0}),
    (["users", "add", "ann", "--role", "admin", "--gateway", "gw-1"], access.users_add, {"name": "ann", "role": "admin"}),
    (["users", "list"], access.users_list, {}),
    (["users", "remove", "ann"], access.users_remove, {"name": "ann"}),
]


@pytest.mark.parametrize(("argv", "run", "expected"), COMMANDS, ids=lambda c: " ".join(c) if isinstance(c, list) else "")
def test_a_command_line_reaches_the_function_that_runs_it(argv: list[str], run: object, expected: dict) -> None:
    args = parser().parse_args(argv)
    assert args.run is run
    assert {name: getattr(args, name) for name in expected} == expected


def test_the_commands_are_listed_in_their_order() -> None:
    root = parser()
    (commands,) = [a for a in root._actions if a.dest == "command"]
    assert list(commands.choices) == ["serve", "worker", "migrate", "events", "projections", "jobs", "token", "users"]


@pytest.mark.parametrize("argv", [[], ["jobs"], ["jobs", "import", "f.json"], ["projections", "rebuild", "--name", "x"],
                                  ["users", "add", "ann", "--role", "root", "--gateway", "g"]], ids=str)
def test_a_usage_error_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(argv)
    assert exit_.value.code == 2
