"""The `gateway-scheduler` command: serve, worker, migrate, events, projections rebuild, token issue,
jobs export and jobs import, users add|list|remove.
Exit 0 ok, 1 failure (one-line reason), 2 usage."""

from __future__ import annotations

import argparse
import sys

from interfaces.cli import access, events, jobs, migrate, projections, serve
from interfaces.settings import Settings


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gateway-scheduler", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    for group in (serve, migrate, events, projections, jobs, access):  # the order `--help` lists them in
        group.add_commands(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    if getattr(args, "gateway_id", None):
        from dataclasses import replace

        settings = replace(settings, gateway_id=args.gateway_id)
    try:
        return args.run(args, settings)
    except KeyboardInterrupt:
        return 0
    except Exception as error:  # noqa: BLE001 - one-line reason, exit 1
        print(f"gateway-scheduler: {error}", file=sys.stderr)
        return 1
