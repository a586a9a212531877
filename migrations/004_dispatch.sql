-- Operational state of the dispatchers, written in the same transaction as the events they
-- record (see application/recorder.py), so a crash can neither lose a fire nor leave a ghost.
CREATE TABLE IF NOT EXISTS dispatch_checkpoints (
    gateway_id text NOT NULL,
    job_id text NOT NULL,
    last_due timestamptz NOT NULL,
    PRIMARY KEY (gateway_id, job_id)
);

CREATE TABLE IF NOT EXISTS dispatch_inflight (
    execution_aggregate_id uuid PRIMARY KEY,
    gateway_id text NOT NULL,
    started_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dispatch_inflight_gateway_idx ON dispatch_inflight (gateway_id);
