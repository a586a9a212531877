"""Executions per job and status (`execution_counts`, migration 019): kept by the execution-history
view in the transaction that changes `executions`, so a job's history counts read a few rows
instead of counting every execution of the job (docs/decisions.md 100)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from projections.view import Statement, storable

# A statement that changes executions' statuses answers rows of (gateway_id, job_id, was, now, n):
# n executions went from `was` (NULL: they are new) to `now` (NULL: they are gone).
_MOVED = "gateway_id, job_id, was, now, n"


def counted_insert(insert: str) -> str:
    """An INSERT of one execution row that answers its move (from nothing to its status)."""
    return f"{insert} RETURNING gateway_id, job_id, NULL::text AS was, status AS now, 1 AS n"


def counted_update(assignments: str) -> str:
    """An UPDATE of the execution `%(id)s` that answers its move; the old status is read with the
    row locked, so a concurrent writer of the same row cannot make it stale."""
    return (
        "WITH old AS (SELECT aggregate_id, status FROM executions WHERE aggregate_id = %(id)s FOR UPDATE)"
        f" UPDATE executions e SET {assignments} FROM old WHERE e.aggregate_id = old.aggregate_id"
        " RETURNING e.gateway_id, e.job_id, old.status AS was, e.status AS now, 1 AS n"
    )


def counted_delete(where: str) -> str:
    """A DELETE of executions that answers their moves, one row per (job, status)."""
    return (
        f"WITH gone AS (DELETE FROM executions WHERE {where} RETURNING gateway_id, job_id, status)"
        f" SELECT gateway_id, job_id, status AS was, NULL::text AS now, count(*) AS n FROM gone GROUP BY 1, 2, 3"
    )


_ADD = (
    "INSERT INTO execution_counts AS c (gateway_id, job_id, status, executions)"
    " SELECT * FROM unnest(%(g)s::text[], %(j)s::text[], %(s)s::text[], %(n)s::bigint[])"
    " ON CONFLICT (gateway_id, job_id, status) DO UPDATE SET executions = c.executions + excluded.executions"
)
_DROP_EMPTY = (
    "DELETE FROM execution_counts WHERE executions = 0 AND (gateway_id, job_id, status) IN"
    " (SELECT * FROM unnest(%(g)s::text[], %(j)s::text[], %(s)s::text[]))"
)


def write_counting(curs: Any, events: Sequence[Sequence[Statement]]) -> None:
    """Run the statements in order, then add up the moves they answered into execution_counts
    with one statement (in key order: two writers take the rows' locks in one order)."""
    moved: Counter[tuple[str, str, str]] = Counter()
    for statements in events:
        for sql, params in statements:
            curs.execute(sql, storable(params))
            if curs.description is not None and ", ".join(c.name for c in curs.description) == _MOVED:
                for row in curs.fetchall():
                    if row["was"] is not None:
                        moved[(row["gateway_id"], row["job_id"], row["was"])] -= row["n"]
                    if row["now"] is not None:
                        moved[(row["gateway_id"], row["job_id"], row["now"])] += row["n"]
    changed = sorted((key, n) for key, n in moved.items() if n)
    if not changed:
        return
    columns = {"g": [k[0] for k, _ in changed], "j": [k[1] for k, _ in changed], "s": [k[2] for k, _ in changed],
               "n": [n for _, n in changed]}
    curs.execute(_ADD, columns)
    if any(n < 0 for _, n in changed):  # a replay has no row for a status no execution holds
        curs.execute(_DROP_EMPTY, columns)


def forget_counted(conn: Any) -> None:
    """Retention (projections/retention.py): take out of the counts the executions of the `doomed`
    table, in the caller's transaction, before their rows go."""
    conn.execute(
        "UPDATE execution_counts c SET executions = c.executions - d.n"
        " FROM (SELECT gateway_id, job_id, status, count(*) AS n FROM doomed GROUP BY 1, 2, 3) d"
        " WHERE c.gateway_id = d.gateway_id AND c.job_id = d.job_id AND c.status = d.status"
    )
    conn.execute(
        "DELETE FROM execution_counts c USING (SELECT DISTINCT gateway_id, job_id, status FROM doomed) d"
        " WHERE c.executions = 0 AND c.gateway_id = d.gateway_id AND c.job_id = d.job_id AND c.status = d.status"
    )


def job_counts(store: Any, gateway_id: str, job_id: str) -> dict[str, int]:
    """The job's executions by status."""
    rows = store.all(
        "SELECT status, executions FROM execution_counts WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s",
        {"gateway_id": gateway_id, "job_id": job_id},
    )
    return {r["status"]: int(r["executions"]) for r in rows}


def recount(conn: Any, gateway_id: str, job_id: str) -> None:
    """Count a job's executions again from the rows: for a bench or tool that wrote the rows of
    `executions` itself, beside the projection."""
    params = {"gateway_id": gateway_id, "job_id": job_id}
    conn.execute("DELETE FROM execution_counts WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s", params)
    conn.execute(
        "INSERT INTO execution_counts (gateway_id, job_id, status, executions) SELECT gateway_id, job_id, status,"
        " count(*) FROM executions WHERE gateway_id = %(gateway_id)s AND job_id = %(job_id)s GROUP BY 1, 2, 3",
        params,
    )
