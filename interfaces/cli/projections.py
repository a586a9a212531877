"""`projections rebuild` and `projections verify`: the read models replayed from the event log,
into their own tables or into scratch tables compared with them."""

from __future__ import annotations

import argparse
import sys

from interfaces.settings import Settings

PROJECTIONS = ("job_list", "gateways", "execution_history", "audit", "analytics")


def projections_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Truncates read models and replays the event log into them; refused while any serve or
    worker process (they project into the same tables) runs on the database."""
    from interfaces.database import hold_read_models
    from interfaces.runtime import Runtime
    from projections.runner import rebuild

    runtime = Runtime(settings).start(follow=False)
    lock = hold_read_models(runtime.url, exclusive=True)
    if lock is None:
        runtime.close()
        raise RuntimeError("the read models are in use: stop every serve and worker process on this database first")
    try:
        last = runtime.app.recorder.max_notification_id() or 0
        for thread in runtime.projections:
            name = thread.projection.name
            if args.name not in ("all", name):
                continue

            def progress(count: int, position: int, name: str = name) -> None:
                print(f"\r{name}: {count:,} events, position {position:,} of {last:,}", end="", file=sys.stderr, flush=True)

            count = rebuild(runtime.app, thread.projection, on_progress=progress)
            print(f"\r{name}: rebuilt from {count:,} events" + " " * 30, file=sys.stderr, flush=True)
    finally:
        lock.close()
        runtime.close()
    return 0


def projections_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Replays the log into scratch tables and compares them with the live read models: exit 1
    and each difference (counts and a few rows) when they differ. Safe while the service runs."""
    import msgspec

    from interfaces.database import eventsourcing_env
    from interfaces.runtime import Runtime
    from projections.verify import verify

    encode = msgspec.json.Encoder(enc_hook=str).encode
    runtime = Runtime(settings).start(follow=False)
    clean = True
    try:
        env = eventsourcing_env(runtime.url, pool_size=1)
        for thread in runtime.projections:
            projection = thread.projection
            if args.name not in ("all", projection.name):
                continue
            verdict = verify(runtime.app, type(projection), type(projection.view), runtime.url, env)
            state = "clean" if verdict.clean else "DIFFERS"
            print(f"{verdict.projection}: {state} (replayed {verdict.replayed:,} events up to position {verdict.position:,})")
            for d in verdict.differences:
                clean = False
                print(f"  {d.table}: {d.only_live} row(s) only in the live read model, {d.only_replayed} only in the replay")
                for row in d.samples_live:
                    print("    live:     " + encode(row).decode())
                for row in d.samples_replayed:
                    print("    replayed: " + encode(row).decode())
    finally:
        runtime.close()
    return 0 if clean else 1


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    projections = commands.add_parser("projections", help="read models").add_subparsers(
        dest="projections_command", required=True)
    p = projections.add_parser("rebuild", help="replay the event log into the read models (service stopped)")
    p.add_argument("--name", default="all", choices=["all", *PROJECTIONS])
    p.set_defaults(run=projections_rebuild)
    p = projections.add_parser("verify", help="replay the log into scratch tables and compare (exit 1 on a difference)")
    p.add_argument("--name", default="all", choices=["all", *PROJECTIONS])
    p.set_defaults(run=projections_verify)
