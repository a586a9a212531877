-- The peak concurrency of each hour, kept by the analytics projection (projections/concurrency.py,
-- docs/decisions.md 300): /statistics' `peak_concurrent_jobs` reads the stored peaks of its whole
-- hours and computes only its partial hours from the runs, instead of sorting every start and end
-- of the window (issue 15).
--
-- analytics_runs: when each execution that ran (not `missed`) started and ended (NULL: still
-- running, or between attempts), as the execution history holds them. Each run is an edge +1 at its
-- start and -1 at its end when it ends after it starts; a run ended at or before its start has none.
CREATE TABLE IF NOT EXISTS analytics_runs (
    aggregate_id uuid PRIMARY KEY,
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    start_time timestamptz NOT NULL,
    end_time timestamptz
);
CREATE INDEX IF NOT EXISTS analytics_runs_start_idx ON analytics_runs (gateway_id, start_time) INCLUDE (end_time);
CREATE INDEX IF NOT EXISTS analytics_runs_end_idx ON analytics_runs (gateway_id, end_time) INCLUDE (start_time)
    WHERE end_time IS NOT NULL;
CREATE INDEX IF NOT EXISTS analytics_runs_job_idx ON analytics_runs (gateway_id, job_id);

-- One row per gateway and UTC hour holding at least one edge: `carry` the runs going just before the
-- hour (the sum of every earlier edge), `net` the sum of the hour's edges, `peak` the most runs going
-- at once in the hour. `peak` is NULL in each gateway's latest row (its hour is computed from the
-- runs when a window holds it), and -1 in a row an event changed, until the end of its transaction.
CREATE TABLE IF NOT EXISTS analytics_peak_hours (
    gateway_id text NOT NULL,
    hour timestamptz NOT NULL,
    carry integer NOT NULL,
    net integer NOT NULL,
    peak integer,
    PRIMARY KEY (gateway_id, hour)
);
CREATE INDEX IF NOT EXISTS analytics_peak_hours_marked_idx ON analytics_peak_hours (gateway_id, hour)
    WHERE peak = -1;
CREATE INDEX IF NOT EXISTS analytics_peak_hours_unkept_idx ON analytics_peak_hours (gateway_id, hour)
    WHERE peak IS NULL;

-- The edges of the runs a read-model transaction's events started or ended, applied to the hours
-- at its end (empty between transactions).
CREATE TABLE IF NOT EXISTS analytics_pending_edges (
    gateway_id text NOT NULL,
    at timestamptz NOT NULL,
    delta integer NOT NULL
);

-- The analytics view is replayed from the log (its tables emptied, its position forgotten) so the
-- new tables hold every run the log still has, exactly as a rebuild would fill them.
TRUNCATE execution_hours, analytics_starts;
DELETE FROM analytics_tracking WHERE application_name <> '__migration__';
