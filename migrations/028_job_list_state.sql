-- The parts of a job's list answer that a fire changes, kept in its row too (issue 15, docs/decisions.md
-- 310): migration 026 left next_execution, last_execution and the counts to the page's statement,
-- which formatted them for each of its 50 rows on every read (two job_list_instant calls and the
-- average's arithmetic, a third of the statement's time at a random offset). As stored generated
-- columns PostgreSQL computes each when an UPDATE sets a column it reads: a dispatch (next_execution)
-- pays for list_next, a finished run (last_execution, the counts) for list_last, one PL/pgSQL call
-- each; every writer of the job list keeps them right without knowing of them, as 026's parts.
-- The text is what the page's statement wrote (the same functions and arithmetic): the answer does
-- not change. The status, itself generated (002), stays in the page's statement: a generated column
-- cannot read another.

-- The instant as msgspec writes it, or 'null' (job_list_instant, immutable for a generated column:
-- its to_char patterns reach neither locale nor DateStyle; see 026).
CREATE OR REPLACE FUNCTION job_list_moment(at timestamptz) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN CASE WHEN at IS NULL THEN 'null' ELSE
        '"' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_trunc('second', at) = at THEN '' ELSE '.' || to_char(at AT TIME ZONE 'UTC', 'US') END
        || 'Z"' END;
END
$$;

-- ',"last_execution":...,"execution_count":...,"average_duration_ms":...}' (the answer's end); the
-- average rounds half to even, as the detail's Python round does. The instant is job_list_moment's
-- text written out again: these functions call pg_catalog's only, as 026's, so that they run where
-- the search_path is a scratch schema alone (`projections verify`).
CREATE OR REPLACE FUNCTION job_list_last(
    last_execution timestamptz, total_executions bigint, finished_executions bigint, total_duration_ms bigint
) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ',"last_execution":' || CASE WHEN last_execution IS NULL THEN 'null' ELSE
            '"' || to_char(last_execution AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
            || CASE WHEN date_trunc('second', last_execution) = last_execution THEN ''
                    ELSE '.' || to_char(last_execution AT TIME ZONE 'UTC', 'US') END
            || 'Z"' END
        || ',"execution_count":' || total_executions || ',"average_duration_ms":' || CASE
            WHEN finished_executions = 0 THEN 0 ELSE total_duration_ms / finished_executions + CASE
                WHEN 2 * (total_duration_ms % finished_executions) > finished_executions
                  OR 2 * (total_duration_ms % finished_executions) = finished_executions
                 AND total_duration_ms / finished_executions % 2 = 1 THEN 1 ELSE 0 END END || '}';
END
$$;

ALTER TABLE jobs
    ADD COLUMN IF NOT EXISTS list_next text GENERATED ALWAYS AS (job_list_moment(next_execution)) STORED,
    ADD COLUMN IF NOT EXISTS list_last text GENERATED ALWAYS AS (
        job_list_last(last_execution, total_executions, finished_executions, total_duration_ms)) STORED;
