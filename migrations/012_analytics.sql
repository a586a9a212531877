-- The analytics projection (projections/analytics.py, docs/projections.md): hourly roll-ups of
-- each job's completed executions, by the hour the execution started. `histogram[i]` counts
-- durations in bucket i (domain of bucket_of in projections/analytics.py), for an hourly p95.
CREATE TABLE IF NOT EXISTS analytics_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO analytics_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS execution_hours (
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    hour timestamptz NOT NULL,
    executions bigint NOT NULL DEFAULT 0,
    successes bigint NOT NULL DEFAULT 0,
    failures bigint NOT NULL DEFAULT 0,
    duration_ms bigint NOT NULL DEFAULT 0,
    histogram integer[] NOT NULL,
    PRIMARY KEY (gateway_id, job_id, hour)
);
CREATE INDEX IF NOT EXISTS execution_hours_gateway_hour_idx ON execution_hours (gateway_id, hour);

-- Owned by the analytics projection: when each unfinished execution started (its outcome events
-- do not say), forgotten at its final outcome.
CREATE TABLE IF NOT EXISTS analytics_starts (
    aggregate_id uuid PRIMARY KEY,
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    start_time timestamptz NOT NULL
);
