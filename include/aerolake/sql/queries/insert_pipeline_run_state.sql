-- A run that failed before any stage recorded an endpoint (e.g. an exhausted budget at extract_to_s3) still
-- gets a row: endpoint `-`, no counts. It is removed once an endpoint row of the run is recorded.
INSERT INTO pipeline_runs (dag_id, run_id, endpoint, source, partition_key, started_at, finished_at, status, last_stage, error)
VALUES (%(dag_id)s, %(run_id)s, '-', %(source)s, %(partition_key)s, %(now)s, %(now)s, %(state)s, %(stage)s, %(error)s)
ON DUPLICATE KEY UPDATE finished_at = VALUES(finished_at), status = VALUES(status), last_stage = VALUES(last_stage), error = VALUES(error)
