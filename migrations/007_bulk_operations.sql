-- Fleet operations (docs/decisions.md 48-49): one row per bulk operation or import on a gateway.
-- `state` is the guard: at most one operation of a gateway is `running` at a time (the partial
-- unique index), a second one is refused with OPERATION_IN_PROGRESS. A synchronous operation that
-- died mid-way (its process killed) stops blocking once `expires_at` has passed; a sequential
-- run-all has no expiry: it runs until its execution group ends.
-- `follow_up_at` / `followed_up_at`: work the gateway's dispatcher owes an operation after it
-- answered (re-enabling what a disable-all disabled at its deadline; driving a run-all's group).
CREATE TABLE IF NOT EXISTS operations (
    id text PRIMARY KEY,  -- a bulk operation's UUID, or an import's import_id
    gateway_id text NOT NULL,
    kind text NOT NULL,
    state text NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
    actor text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    expires_at timestamptz,
    follow_up_at timestamptz,
    followed_up_at timestamptz,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS operations_follow_up_idx ON operations (gateway_id, follow_up_at)
    WHERE follow_up_at IS NOT NULL AND followed_up_at IS NULL;

-- The execution groups read model (projections/execution_groups.py): a run-all's group and its
-- members, each member's execution read from `executions` at query time.
CREATE TABLE IF NOT EXISTS execution_groups_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO execution_groups_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS execution_groups (
    gateway_id text NOT NULL,
    group_id text NOT NULL,
    aggregate_id uuid NOT NULL UNIQUE,
    operation_id text,
    sequential boolean NOT NULL,
    status text NOT NULL,
    total_jobs integer NOT NULL,
    include_tags text[] NOT NULL DEFAULT '{}',
    exclude_tags text[] NOT NULL DEFAULT '{}',
    actor text NOT NULL DEFAULT '',
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    PRIMARY KEY (gateway_id, group_id)
);

CREATE TABLE IF NOT EXISTS execution_group_members (
    gateway_id text NOT NULL,
    group_id text NOT NULL,
    position integer NOT NULL,
    job_id text NOT NULL,
    execution_id text NOT NULL,
    state text NOT NULL,  -- waiting | started | finished | skipped
    outcome text,         -- the execution's final status, or why it was skipped
    started_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (gateway_id, group_id, position)
);
