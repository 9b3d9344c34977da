-- pipeline_runs.status becomes the run's state, not the last stage's: `running` while its stages go on,
-- `retrying` when a stage failed and Airflow will try it again, `failed` when the run failed (no retry left,
-- or an error no retry can cure), `success` only once the DAG's last task succeeded. `error` is the message of
-- the failure that set `retrying` or `failed` (secret-free, as every aerolake message); NULL otherwise. Rows
-- written before this migration keep the status they had (every stage wrote `success`).
ALTER TABLE pipeline_runs ADD COLUMN error VARCHAR(1000) NULL;
