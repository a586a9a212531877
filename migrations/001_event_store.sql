-- The event store of the Scheduler application, as eventsourcing's PostgreSQL recorder
-- expects it (the library's own CREATE_TABLE is off outside tests of the library itself).
CREATE TABLE IF NOT EXISTS scheduler_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);
CREATE UNIQUE INDEX IF NOT EXISTS scheduler_events_notification_id_idx
    ON scheduler_events (notification_id ASC);

CREATE TABLE IF NOT EXISTS scheduler_snapshots (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    PRIMARY KEY (originator_id, originator_version)
);

-- The recorder inserts events as an array of this composite type.
DO $$
BEGIN
    CREATE TYPE stored_event_uuid AS (
        originator_id uuid,
        originator_version bigint,
        topic text,
        state bytea
    );
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
