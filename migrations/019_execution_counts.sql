-- How many executions each job has in each status (issue 15, docs/decisions.md 100): a job's
-- history answers its counts (total, per status filter, success rate) from a few rows instead of
-- counting 100,000. Kept equal to a count of `executions` by every writer of those rows: the
-- execution-history projection (one upsert per read-model transaction), a reset, retention pruning,
-- a rebuild's truncate.
CREATE TABLE IF NOT EXISTS execution_counts (
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    status text NOT NULL,
    executions bigint NOT NULL,
    PRIMARY KEY (gateway_id, job_id, status)
);

-- The rows already there, counted while no projection writes them.
LOCK TABLE executions IN SHARE MODE;
DELETE FROM execution_counts;
INSERT INTO execution_counts (gateway_id, job_id, status, executions)
    SELECT gateway_id, job_id, status, count(*) FROM executions GROUP BY gateway_id, job_id, status;
