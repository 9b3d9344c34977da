-- Record one stage's counts for (dag_id, run_id, endpoint); the other stages' columns are kept.
INSERT INTO pipeline_runs (dag_id, run_id, endpoint, source, partition_key, started_at, finished_at, status, last_stage, {columns})
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, {placeholders})
ON DUPLICATE KEY UPDATE finished_at = VALUES(finished_at), status = VALUES(status), last_stage = VALUES(last_stage), {updates}
