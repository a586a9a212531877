-- Read models of the job list / detail / tags / status, and of gateways; each projection
-- commits its rows and its tracking record (one row per application) in one transaction.
CREATE TABLE IF NOT EXISTS job_list_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO job_list_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS jobs (
    aggregate_id uuid NOT NULL UNIQUE,
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    type text NOT NULL,
    enabled boolean NOT NULL,
    disabled_reason text NOT NULL DEFAULT '',
    schedule jsonb NOT NULL,
    schedule_anchor timestamptz NOT NULL,
    action jsonb NOT NULL,
    options jsonb NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    next_execution timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by text NOT NULL DEFAULT '',
    updated_by text NOT NULL DEFAULT '',
    version bigint NOT NULL,
    last_execution timestamptz,
    last_status text,
    total_executions bigint NOT NULL DEFAULT 0,
    successful_executions bigint NOT NULL DEFAULT 0,
    failed_executions bigint NOT NULL DEFAULT 0,
    total_duration_ms bigint NOT NULL DEFAULT 0,
    finished_executions bigint NOT NULL DEFAULT 0,
    status text GENERATED ALWAYS AS (
        CASE WHEN NOT enabled THEN 'inactive'
             WHEN last_status IN ('failed', 'timeout') THEN 'error'
             ELSE 'active' END
    ) STORED,
    PRIMARY KEY (gateway_id, job_id)
);
CREATE INDEX IF NOT EXISTS jobs_gateway_created_idx ON jobs (gateway_id, created_at, job_id);
CREATE INDEX IF NOT EXISTS jobs_tags_idx ON jobs USING gin (tags);

CREATE TABLE IF NOT EXISTS gateways_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO gateways_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS gateways (
    gateway_id text PRIMARY KEY,
    aggregate_id uuid NOT NULL UNIQUE,
    name text NOT NULL,
    location text NOT NULL DEFAULT '',
    latitude double precision,
    longitude double precision,
    created_at timestamptz NOT NULL
);

-- Written by workers (operational state, not events): liveness of each gateway's worker.
CREATE TABLE IF NOT EXISTS gateway_heartbeats (
    gateway_id text NOT NULL,
    worker_id text NOT NULL,
    last_seen timestamptz NOT NULL,
    PRIMARY KEY (gateway_id, worker_id)
);
