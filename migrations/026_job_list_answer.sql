-- The job list's answer for each job, kept in its row (issue 15, docs/decisions.md 260): a page of
-- GET /jobs is 50 of these joined by PostgreSQL and handed to the response as they are, instead of
-- 50 rows decoded into Python (JSON columns, timestamps) and encoded again.
--
-- The parts that change only with the job's configuration are stored generated columns: PostgreSQL
-- computes them from the row's own columns, and recomputes one only when an UPDATE sets a column it
-- reads, so a fire's updates (next_execution, last_execution, the counts, last_status) never pay for
-- them; every writer of the job list (the projection, a rebuild, a replay into scratch tables) keeps
-- them right without knowing of them, and ALTER TABLE fills them for the rows already there. The
-- parts a fire changes (status, next_execution, last_execution, execution_count,
-- average_duration_ms) are written by the page's statement (projections/job_queries.py) with
-- job_list_instant; nothing in the answer depends on the time of the read.
--
-- The text is exactly what the list route encoded before: the same fields in the same order,
-- instants as msgspec writes them (UTC, "Z", microseconds only when not zero), the schedule's own
-- fields in jsonb's order followed by next_execution. The functions are immutable in fact: to_char
-- and to_json are marked stable for their locale and DateStyle uses, which these fixed patterns and
-- types do not reach; they call pg_catalog functions only, so the scratch schema's search_path of
-- `projections verify` evaluates them the same. PL/pgSQL, not SQL: PostgreSQL does not inline an
-- immutable SQL function whose body calls stable ones, and such a call cost 22-37 us a row against
-- 9 us.
CREATE OR REPLACE FUNCTION job_list_instant(at timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN at IS NULL THEN 'null' ELSE
        '"' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_trunc('second', at) = at THEN '' ELSE '.' || to_char(at AT TIME ZONE 'UTC', 'US') END
        || 'Z"' END
$$;

-- '{"id":...,"enabled":...,"status":' (the status follows)
CREATE OR REPLACE FUNCTION job_list_head(job_id text, name text, description text, type text, enabled boolean)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN '{"id":' || to_json(job_id)::text || ',"name":' || to_json(name)::text
        || ',"description":' || to_json(description)::text || ',"type":' || to_json(type)::text
        || ',"enabled":' || CASE WHEN enabled THEN 'true' ELSE 'false' END || ',"status":';
END
$$;

-- ',"schedule":{<its fields>,"next_execution":' (the instant follows)
CREATE OR REPLACE FUNCTION job_list_schedule(schedule jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ',"schedule":' || CASE WHEN (schedule - 'next_execution') = '{}'::jsonb THEN '{'
                                  ELSE left((schedule - 'next_execution')::text, -1) || ',' END
        || '"next_execution":';
END
$$;

-- '},"action":...,"tags":...,"created_at":"..."' (last_execution and the counts follow)
CREATE OR REPLACE FUNCTION job_list_tail(action jsonb, tags text[], created_at timestamptz)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN '},"action":' || action::text || ',"tags":' || to_json(tags)::text
        || ',"created_at":"' || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_trunc('second', created_at) = created_at THEN ''
                ELSE '.' || to_char(created_at AT TIME ZONE 'UTC', 'US') END || 'Z"';
END
$$;

ALTER TABLE jobs
    ADD COLUMN IF NOT EXISTS list_head text GENERATED ALWAYS AS (
        job_list_head(job_id, name, description, type, enabled)) STORED,
    ADD COLUMN IF NOT EXISTS list_schedule text GENERATED ALWAYS AS (job_list_schedule(schedule)) STORED,
    ADD COLUMN IF NOT EXISTS list_tail text GENERATED ALWAYS AS (job_list_tail(action, tags, created_at)) STORED;

-- The list's counts (all, active) over a gateway's jobs read this small index alone (index-only),
-- not the wide rows: a page's statement 0.97 -> 0.32 ms (EXPLAIN ANALYZE, 1,000 jobs, minimum of 40).
CREATE INDEX IF NOT EXISTS jobs_gateway_status_idx ON jobs (gateway_id, status);
