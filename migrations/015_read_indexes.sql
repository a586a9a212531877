-- Reads of the execution history that stay fast at 100,000 executions of a job (issue 15,
-- docs/decisions.md 84): /statistics and its peak concurrency read one gateway's executions by
-- start or end instant, the history's counts read a job's executions by status, all from the index.
CREATE INDEX IF NOT EXISTS executions_gateway_start_idx ON executions (gateway_id, start_time)
    INCLUDE (status, end_time, duration_ms);
CREATE INDEX IF NOT EXISTS executions_gateway_end_idx ON executions (gateway_id, end_time)
    INCLUDE (start_time, status);
CREATE INDEX IF NOT EXISTS executions_job_status_idx ON executions (gateway_id, job_id, status);
