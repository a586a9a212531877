-- The job list's answer for each job, kept in its row (issue 15, docs/decisions.md 260): a page of
-- GET /jobs is the concatenation of 50 of these, handed to the response as they are, instead of 50
-- rows decoded into Python (JSON columns, timestamps) and encoded again. A stored generated column:
-- PostgreSQL computes it from the row's own columns whenever any of them changes, so every writer of
-- the job list (the projection, a rebuild, a replay into scratch tables) keeps it right without
-- knowing of it, and ALTER TABLE fills it for the rows already there.
--
-- The text is exactly what the list route encoded before (projections/job_queries.py): the same
-- fields in the same order, instants as msgspec writes them (UTC, "Z", microseconds only when not
-- zero), the schedule's own fields in jsonb's order followed by next_execution, and the average
-- duration rounded half to even as Python's round() does. Nothing in it depends on the time of the
-- read (next_execution is the stored one). Immutable in fact: to_char and to_json are marked stable
-- for their locale and DateStyle uses, which these fixed patterns and types do not reach; only
-- pg_catalog functions are called, so the scratch schema's search_path of `projections verify`
-- evaluates it the same. PL/pgSQL, not SQL: PostgreSQL does not inline an immutable SQL function
-- whose body calls stable ones, and a SQL function called per row cost 22-37 us against 9 us
-- (1,000 rows, machine PostgreSQL): every UPDATE of a job row pays it once.
CREATE OR REPLACE FUNCTION job_list_answer(
    job_id text, name text, description text, type text, enabled boolean, last_status text,
    schedule jsonb, next_execution timestamptz, action jsonb, tags text[], created_at timestamptz,
    last_execution timestamptz, total_executions bigint, finished_executions bigint,
    total_duration_ms bigint
) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN '{"id":' || to_json(job_id)::text
        || ',"name":' || to_json(name)::text
        || ',"description":' || to_json(description)::text
        || ',"type":' || to_json(type)::text
        || ',"enabled":' || CASE WHEN enabled THEN 'true' ELSE 'false' END
        || ',"status":' || CASE WHEN NOT enabled THEN '"inactive"'
                                WHEN last_status IN ('failed', 'timeout') THEN '"error"'
                                ELSE '"active"' END
        || ',"schedule":' || CASE WHEN (schedule - 'next_execution') = '{}'::jsonb THEN '{'
                                  ELSE left((schedule - 'next_execution')::text, -1) || ',' END
            || '"next_execution":' || CASE WHEN next_execution IS NULL THEN 'null' ELSE
                '"' || to_char(next_execution AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                || CASE WHEN date_trunc('second', next_execution) = next_execution THEN ''
                        ELSE '.' || to_char(next_execution AT TIME ZONE 'UTC', 'US') END || 'Z"' END
            || '}'
        || ',"action":' || action::text
        || ',"tags":' || to_json(tags)::text
        || ',"created_at":"' || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
            || CASE WHEN date_trunc('second', created_at) = created_at THEN ''
                    ELSE '.' || to_char(created_at AT TIME ZONE 'UTC', 'US') END || 'Z"'
        || ',"last_execution":' || CASE WHEN last_execution IS NULL THEN 'null' ELSE
            '"' || to_char(last_execution AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
            || CASE WHEN date_trunc('second', last_execution) = last_execution THEN ''
                    ELSE '.' || to_char(last_execution AT TIME ZONE 'UTC', 'US') END || 'Z"' END
        || ',"execution_count":' || total_executions::text
        || ',"average_duration_ms":' || CASE WHEN finished_executions = 0 THEN '0' ELSE (
            total_duration_ms / finished_executions
            + CASE WHEN 2 * (total_duration_ms % finished_executions) > finished_executions
                     OR (2 * (total_duration_ms % finished_executions) = finished_executions
                         AND (total_duration_ms / finished_executions) % 2 = 1) THEN 1 ELSE 0 END
            )::text END
        || '}';
END
$$;

ALTER TABLE jobs ADD COLUMN IF NOT EXISTS list_answer text GENERATED ALWAYS AS (
    job_list_answer(job_id, name, description, type, enabled, last_status, schedule, next_execution,
                    action, tags, created_at, last_execution, total_executions, finished_executions,
                    total_duration_ms)
) STORED;

-- The list's counts (all, active) over a gateway's jobs read this small index alone (index-only),
-- not the wide rows: a page's statement 0.97 -> 0.32 ms (EXPLAIN ANALYZE, 1,000 jobs, minimum of 40).
CREATE INDEX IF NOT EXISTS jobs_gateway_status_idx ON jobs (gateway_id, status);
