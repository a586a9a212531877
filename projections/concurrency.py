"""The peak concurrency of each hour (analytics_runs and analytics_peak_hours, migration 027,
docs/decisions.md 300): the analytics projection's statements that keep them, what retention and a
reset take out of them, and the most executions running at once in a window read from them.

A run is an edge +1 at its start and -1 at its end (none at its end while it runs; none at all when
it ends at or before its start); at one instant the ends count before the starts. The level at t is
the sum of the edges at or before t: the runs going at t. An hour's row keeps `carry` (the level
just before it), `net` (its edges' sum) and `peak` (its highest level), which depend on the set
of edges alone, so a replay finds the same rows. The `peak` of each gateway's latest row is not
kept (NULL: its hour is usually still open and takes edges, often a few ms out of time order,
which would mean a recompute of the hour at each); the answer computes that hour from its runs.
An event writes its run and its edge (`analytics_pending_edges`); at the end of the transaction
the view's closing statements apply the transaction's edges to the hours at once (APPLY: carries
moved, hours marked, `peak` MARK) and recompute every marked row but the latest from its hour's
runs (RECOMPUTE), so an hour is recomputed about once, when the next one begins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import Connection

from projections.read_store import ReadStore
from projections.view import Statement

MARK = -1  # a row's `peak` while an event of the transaction changed its edges (levels are never < 0)
# The edges the transaction's events added (+1, -1) or took back (-1 at a start), applied to the
# hours at its end, all at once (APPLY).
_PENDING_HOUR = "date_trunc('hour', q.at, 'UTC')"
APPLY: list[str] = [
    # A gateway's latest row before an hour taking edges will not be the latest: marked.
    f"UPDATE analytics_peak_hours h SET peak = {MARK} FROM (SELECT q.gateway_id, max({_PENDING_HOUR}) AS hour"
    "  FROM analytics_pending_edges q GROUP BY 1) p"
    " WHERE h.gateway_id = p.gateway_id AND h.peak IS NULL AND h.hour < p.hour",
    # Every later row's carry (and kept peak) moves by the edges before it.
    f"UPDATE analytics_peak_hours h SET carry = h.carry + s.d, peak = CASE WHEN h.peak = {MARK} THEN {MARK}"
    "  ELSE h.peak + s.d END FROM (SELECT x.gateway_id, x.hour, sum(q.delta) AS d FROM analytics_pending_edges q"
    f"  JOIN analytics_peak_hours x ON x.gateway_id = q.gateway_id AND x.hour > {_PENDING_HOUR} GROUP BY 1, 2) s"
    " WHERE h.gateway_id = s.gateway_id AND h.hour = s.hour",
    # The hours of the edges: marked, their net moved; a new one starts at the level before it (the
    # row before's, plus the edges between).
    "INSERT INTO analytics_peak_hours AS h (gateway_id, hour, carry, net, peak)"
    " SELECT g.gateway_id, g.hour, coalesce(b.level, 0) + (SELECT coalesce(sum(q.delta), 0)"
    "  FROM analytics_pending_edges q WHERE q.gateway_id = g.gateway_id AND q.at < g.hour"
    f"  AND q.at >= coalesce(b.hour, '-infinity'::timestamptz)), g.d, {MARK}"
    f" FROM (SELECT q.gateway_id, {_PENDING_HOUR} AS hour, sum(q.delta) AS d FROM analytics_pending_edges q"
    "  GROUP BY 1, 2) g LEFT JOIN LATERAL (SELECT p.hour, p.carry + p.net AS level FROM analytics_peak_hours p"
    "  WHERE p.gateway_id = g.gateway_id AND p.hour < g.hour ORDER BY p.hour DESC LIMIT 1) b ON true"
    f" ON CONFLICT (gateway_id, hour) DO UPDATE SET peak = {MARK}, net = h.net + excluded.net",
    "DELETE FROM analytics_pending_edges",
]


def _shifted(by: str) -> str:
    """A kept peak moved by `by`; an unkept or marked one stays so."""
    return f"CASE WHEN h.peak = {MARK} THEN {MARK} ELSE h.peak + {by} END"


def _edges(gateway: str, lo: str, hi: str) -> str:
    """(at, d) of the edges of `gateway`'s runs in [lo, hi), each side read from an index."""
    return (
        f"SELECT r.start_time AS at, 1 AS d FROM analytics_runs r WHERE r.gateway_id = {gateway}"
        f" AND r.start_time >= {lo} AND r.start_time < {hi} AND (r.end_time IS NULL OR r.end_time > r.start_time)"
        f" UNION ALL SELECT r.end_time, -1 FROM analytics_runs r WHERE r.gateway_id = {gateway}"
        f" AND r.end_time >= {lo} AND r.end_time < {hi} AND r.end_time > r.start_time"
    )


_NEXT = "d.hour + interval '1 hour'"
# At the end of each transaction, the marked rows: those left without an edge go (a replay has no
# row for them; when a gateway's latest went, its row before becomes the latest: unkept), the
# others but each gateway's latest are recomputed from their hour's edges over their (exact)
# carry, and the latest is unkept.
RECOMPUTE: list[str] = [
    f"WITH gone AS (DELETE FROM analytics_peak_hours d WHERE d.peak = {MARK}"
    f"  AND NOT EXISTS ({_edges('d.gateway_id', 'd.hour', _NEXT)}) RETURNING d.gateway_id, d.hour)"
    " UPDATE analytics_peak_hours h SET peak = NULL FROM (SELECT g.gateway_id, (SELECT max(x.hour)"
    "  FROM analytics_peak_hours x WHERE x.gateway_id = g.gateway_id AND NOT EXISTS (SELECT 1 FROM gone y"
    "  WHERE y.gateway_id = x.gateway_id AND y.hour = x.hour)) AS hour FROM (SELECT DISTINCT gateway_id FROM gone) g) t"
    " WHERE h.gateway_id = t.gateway_id AND h.hour = t.hour",
    "UPDATE analytics_peak_hours h SET net = x.net,"
    " peak = CASE WHEN x.first_at = h.hour THEN h.carry + x.top ELSE greatest(h.carry, h.carry + x.top) END"
    " FROM analytics_peak_hours d CROSS JOIN LATERAL ("
    "  SELECT max(l.level) AS top, coalesce(sum(l.n), 0) AS net, min(l.at) AS first_at"
    "  FROM (SELECT e.at, sum(e.d) AS n, sum(sum(e.d)) OVER (ORDER BY e.at) AS level"
    f"   FROM ({_edges('d.gateway_id', 'd.hour', _NEXT)}) e GROUP BY e.at) l) x"
    f" WHERE d.peak = {MARK} AND h.gateway_id = d.gateway_id AND h.hour = d.hour"
    " AND EXISTS (SELECT 1 FROM analytics_peak_hours n WHERE n.gateway_id = d.gateway_id AND n.hour > d.hour)",
    f"UPDATE analytics_peak_hours SET peak = NULL WHERE peak = {MARK}",
]

def started(params: dict[str, Any]) -> list[Statement]:
    """Execution.Started (`id`, `gateway_id`, `job_id`, `at`): a run going from `at`, an edge +1
    (a Started is its aggregate's first event, so the run is new)."""
    sql = (
        "WITH r AS (INSERT INTO analytics_runs (aggregate_id, gateway_id, job_id, start_time)"
        " VALUES (%(id)s, %(gateway_id)s, %(job_id)s, %(at)s) ON CONFLICT (aggregate_id) DO NOTHING"
        " RETURNING gateway_id, start_time)"
        " INSERT INTO analytics_pending_edges (gateway_id, at, delta) SELECT gateway_id, start_time, 1 FROM r"
    )
    return [(sql, params)]


def ended(params: dict[str, Any]) -> list[Statement]:
    """A final outcome (`id`, `at`): the run, if still going, ends at `at`: an edge -1 there, or when
    `at` is not after its start, its start edge taken back. An outcome of no running run changes
    nothing."""
    sql = (
        "WITH r AS (UPDATE analytics_runs SET end_time = %(at)s WHERE aggregate_id = %(id)s AND end_time IS NULL"
        " RETURNING gateway_id, start_time, end_time)"
        " INSERT INTO analytics_pending_edges (gateway_id, at, delta)"
        " SELECT gateway_id, CASE WHEN end_time > start_time THEN end_time ELSE start_time END, -1 FROM r"
    )
    return [(sql, params)]


def forget_runs(where: str) -> list[str]:
    """Statements that take the runs `r` matching `where` (SQL over `r`, any gateways) out of the
    hours: mark the hours holding their edges, take their part out of every later hour's carry,
    delete them (RECOMPUTE then recomputes the marked hours)."""
    edged = f"{where} AND (r.end_time IS NULL OR r.end_time > r.start_time)"
    return [
        f"UPDATE analytics_peak_hours h SET peak = {MARK} FROM ("
        f" SELECT r.gateway_id, date_trunc('hour', r.start_time, 'UTC') AS hour FROM analytics_runs r WHERE {edged}"
        f" UNION SELECT r.gateway_id, date_trunc('hour', r.end_time, 'UTC') FROM analytics_runs r WHERE {edged}"
        "  AND r.end_time IS NOT NULL) d WHERE h.gateway_id = d.gateway_id AND h.hour = d.hour",
        # A run adds 1 to the carry of each hour beginning after its start and not after its end.
        f"UPDATE analytics_peak_hours h SET carry = h.carry - s.n, peak = {_shifted('-s.n')} FROM ("
        " SELECT p.gateway_id, p.hour, count(*) AS n FROM analytics_runs r JOIN analytics_peak_hours p"
        "  ON p.gateway_id = r.gateway_id AND p.hour > r.start_time AND (r.end_time IS NULL OR p.hour <= r.end_time)"
        f"  WHERE {edged} GROUP BY 1, 2) s WHERE h.gateway_id = s.gateway_id AND h.hour = s.hour",
        f"DELETE FROM analytics_runs r WHERE {where}",
    ]


def reset(params: dict[str, Any]) -> list[Statement]:
    """Job.Reset without keep_data (`gateway_id`, `job_id`): the job's ended runs go, as the
    execution history deletes its finished executions; runs still going stay."""
    where = "r.gateway_id = %(gateway_id)s AND r.job_id = %(job_id)s AND r.end_time IS NOT NULL"
    return [(sql, params) for sql in (*APPLY, *forget_runs(where))]  # the closing statements recompute


def forget_pruned(conn: Connection) -> None:
    """Retention, in its transaction: the runs of the `doomed` executions go."""
    for sql in (*forget_runs("r.aggregate_id IN (SELECT aggregate_id FROM doomed)"), *RECOMPUTE):
        conn.execute(sql)


_ALL_EDGES = _edges("%(g)s", "'-infinity'::timestamptz", "'infinity'::timestamptz")
# Every hour's row of a gateway computed from its runs at once (a bench's set-up writes runs
# straight into analytics_runs, then this, as the projection would have kept them).
HOURS_FROM_RUNS = (
    "INSERT INTO analytics_peak_hours (gateway_id, hour, carry, net, peak)"
    " SELECT %(g)s, hour, carry, final - carry, CASE WHEN hour = max(hour) OVER () THEN NULL"
    "  WHEN first_at = hour THEN top ELSE greatest(carry, top) END"
    " FROM (SELECT date_trunc('hour', at, 'UTC') AS hour, (array_agg(level - n ORDER BY at))[1] AS carry,"
    "  (array_agg(level ORDER BY at DESC))[1] AS final, max(level) AS top, min(at) AS first_at"
    "  FROM (SELECT e.at, sum(e.d) AS n, sum(sum(e.d)) OVER (ORDER BY e.at) AS level"
    f"   FROM ({_ALL_EDGES}) e GROUP BY e.at) l"
    "  GROUP BY 1) x"
)


# ---- reading ----

_WHOLE = (
    "(SELECT greatest((SELECT max(peak) FROM analytics_peak_hours WHERE gateway_id = %(g)s"
    "  AND hour >= %(first)s AND hour < %(last)s),"
    " CASE WHEN NOT EXISTS (SELECT 1 FROM analytics_peak_hours WHERE gateway_id = %(g)s AND hour = %(first)s)"
    "  THEN coalesce((SELECT carry + net FROM analytics_peak_hours WHERE gateway_id = %(g)s AND hour < %(first)s"
    "   ORDER BY hour DESC LIMIT 1), 0) END))"
)


def _live(n: int) -> str:
    """The highest level in [a, b) within hour h (piece `n`'s parameters): the hour's carry, then
    its edges read from the runs."""
    h, a, b = f"%(h{n})s", f"%(a{n})s", f"%(b{n})s"
    return (
        f"(SELECT coalesce((SELECT carry + net FROM analytics_peak_hours WHERE gateway_id = %(g)s AND hour < {h}"
        "   ORDER BY hour DESC LIMIT 1), 0)"
        f" + greatest(coalesce((SELECT level FROM lv{n} WHERE at <= {a} ORDER BY at DESC LIMIT 1), 0),"
        f"  (SELECT max(level) FROM lv{n} WHERE at > {a})))"
    )


def _levels(n: int) -> str:
    return (
        f"lv{n} AS (SELECT e.at, sum(sum(e.d)) OVER (ORDER BY e.at) AS level"
        f" FROM ({_edges('%(g)s', f'%(h{n})s', f'%(b{n})s')}) e GROUP BY e.at)"
    )


def _floor(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _unkept(store: ReadStore, gateway_id: str, first: datetime, last: datetime) -> list[datetime]:
    """The hours in [first, last) whose peak is not kept (the gateway's latest, if there)."""
    rows = store.all(
        "SELECT hour FROM analytics_peak_hours WHERE gateway_id = %(g)s AND peak IS NULL"
        " AND hour >= %(first)s AND hour < %(last)s", {"g": gateway_id, "first": first, "last": last})
    return [row["hour"] for row in rows]


def peak_concurrency(store: ReadStore, gateway_id: str, since: datetime, now: datetime) -> int:
    """The most executions of the gateway running at once in [since, now) (an execution still
    going runs until now): the stored peaks of the whole hours, the partial hours at either end
    computed from their runs. Instants in UTC (the read pool's TimeZone; hours are UTC hours)."""
    since, now = since.astimezone(UTC), now.astimezone(UTC)
    if now <= since:
        return 0
    params: dict[str, Any] = {"g": gateway_id}
    pieces: list[tuple[datetime, datetime, datetime]] = []  # (hour, a, b): [a, b) within the hour
    first = _floor(since) if _floor(since) == since else _floor(since) + timedelta(hours=1)
    last = _floor(now)
    parts: list[str] = []
    if last < first:  # both ends in one hour
        pieces.append((_floor(since), since, now))
    else:
        if since < first:
            pieces.append((_floor(since), since, first))
        if first < last:
            params.update(first=first, last=last)
            parts.append(_WHOLE)
            pieces.extend((h, h, h + timedelta(hours=1)) for h in _unkept(store, gateway_id, first, last))
        if last < now:
            pieces.append((last, last, now))
    for n, (h, a, b) in enumerate(pieces):
        params.update({f"h{n}": h, f"a{n}": a, f"b{n}": b})
        parts.append(_live(n))
    ctes = f"WITH {', '.join(_levels(n) for n in range(len(pieces)))} " if pieces else ""
    row = store.one(f"{ctes}SELECT greatest(0, {', '.join(parts)}) AS peak", params)  # noqa: S608 - constants
    return int(row["peak"]) if row and row["peak"] is not None else 0
