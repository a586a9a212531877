-- The audit / version read model (projections/audit.py): one row per event of a job, with its
-- cause, the fields it changed and the job's whole configuration after it (as_of, revert, undo).
-- Rows of deleted jobs stay: the audit of a job outlives it.
CREATE TABLE IF NOT EXISTS audit_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO audit_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS job_versions (
    aggregate_id uuid NOT NULL,
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    version bigint NOT NULL,
    position bigint NOT NULL,
    timestamp timestamptz NOT NULL,
    event_type text NOT NULL,
    action text NOT NULL,
    actor text NOT NULL,
    reason text NOT NULL DEFAULT '',
    operation_id text,
    request_id text,
    changes jsonb NOT NULL,
    snapshot jsonb NOT NULL,
    -- By aggregate: an event of a second aggregate claiming a job's (gateway, id) (a damaged log)
    -- is audited rather than stalling the audit (the job list is the one that refuses it).
    PRIMARY KEY (aggregate_id, version)
);
CREATE INDEX IF NOT EXISTS job_versions_job_idx ON job_versions (gateway_id, job_id, version);
CREATE INDEX IF NOT EXISTS job_versions_job_time_idx ON job_versions (gateway_id, job_id, timestamp);
CREATE INDEX IF NOT EXISTS job_versions_gateway_time_idx ON job_versions (gateway_id, timestamp DESC, position DESC);
CREATE INDEX IF NOT EXISTS job_versions_operation_idx ON job_versions (gateway_id, operation_id, position)
    WHERE operation_id IS NOT NULL;

-- GET /jobs/{id}/fires reads a window of a job's executions by the instant they were due.
CREATE INDEX IF NOT EXISTS executions_job_scheduled_idx ON executions (gateway_id, job_id, scheduled_for);
