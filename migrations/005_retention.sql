-- Retention prunes finished executions by age, and their log lines by execution.
CREATE INDEX IF NOT EXISTS executions_end_time_idx ON executions (end_time) WHERE end_time IS NOT NULL;
CREATE INDEX IF NOT EXISTS execution_logs_execution_idx ON execution_logs (gateway_id, execution_id);
