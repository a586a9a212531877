-- Read models of executions: one row per execution with its outcome, its log lines, and (for the
-- job list's statistics) the job each running execution belongs to.
CREATE TABLE IF NOT EXISTS execution_history_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO execution_history_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS executions (
    gateway_id text NOT NULL,
    execution_id text NOT NULL,
    aggregate_id uuid NOT NULL UNIQUE,
    job_id text NOT NULL,
    job_name text NOT NULL,
    trigger text NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'retrying', 'success', 'failed', 'timeout', 'missed')),
    scheduled_for timestamptz,
    start_time timestamptz NOT NULL,
    end_time timestamptz,
    duration_ms bigint,
    attempt integer NOT NULL DEFAULT 1,
    retry_count integer NOT NULL DEFAULT 0,
    code text NOT NULL DEFAULT '',
    message text NOT NULL DEFAULT '',
    parameters jsonb NOT NULL DEFAULT '{}',
    details jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (gateway_id, execution_id)
);
CREATE INDEX IF NOT EXISTS executions_job_start_idx ON executions (gateway_id, job_id, start_time DESC);
CREATE INDEX IF NOT EXISTS executions_status_idx ON executions (gateway_id, status);

CREATE TABLE IF NOT EXISTS execution_logs (
    id bigserial PRIMARY KEY,
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    execution_id text NOT NULL,
    timestamp timestamptz NOT NULL,
    level text NOT NULL,
    message text NOT NULL
);
CREATE INDEX IF NOT EXISTS execution_logs_job_time_idx ON execution_logs (gateway_id, job_id, timestamp);

-- Owned by the job list projection: the job of each execution not yet finished, because the
-- outcome events of an Execution do not repeat its gateway and job.
CREATE TABLE IF NOT EXISTS execution_jobs (
    aggregate_id uuid PRIMARY KEY,
    gateway_id text NOT NULL,
    job_id text NOT NULL
);
