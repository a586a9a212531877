"""`events`: the event log after a position, or one job's history, as JSON lines."""

from __future__ import annotations

import argparse
import sys

from interfaces.settings import Settings


def job_events(args: argparse.Namespace, settings: Settings) -> int:
    """A job's event history, one JSON object per line, oldest first."""
    import msgspec

    from interfaces.runtime import Runtime

    encode = msgspec.json.Encoder(enc_hook=str).encode
    runtime = Runtime(settings).start(follow=False)
    try:
        for event in runtime.app.job_events(settings.gateway_id, args.job_id):
            fields = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
            line = {"version": event.originator_version, "type": type(event).__qualname__, **fields}
            sys.stdout.write(encode(line).decode() + "\n")
    finally:
        runtime.close()
    return 0


def events(args: argparse.Namespace, settings: Settings) -> int:
    """A job's event history (with a job id), or the raw log after a position: one JSON object per line."""
    if args.job_id:
        return job_events(args, settings)
    import msgspec

    from interfaces.runtime import Runtime
    from projections.event_log import decoded

    encode = msgspec.json.Encoder(enc_hook=str).encode
    runtime = Runtime(settings).start(follow=False)
    try:
        rows = runtime.reads.all(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM scheduler_events"
            " WHERE notification_id > %(after)s ORDER BY notification_id LIMIT %(limit)s",
            {"after": args.after, "limit": args.limit},
        )
        for row in rows:
            sys.stdout.write(encode(decoded(runtime.app.mapper, row)).decode() + "\n")
    finally:
        runtime.close()
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("events", help="the event log after a position, or a job's history (JSON lines)")
    p.add_argument("job_id", nargs="?", help="only this job's events, all of them")
    p.add_argument("--after", type=int, default=0, help="the position to read after (the whole log)")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--gateway-id", help="the job's gateway")
    p.set_defaults(run=events)
