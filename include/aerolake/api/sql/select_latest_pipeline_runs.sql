-- Per DAG, the endpoints of its most recent run (by start time), with their stage counts.
SELECT r.dag_id, r.run_id, r.endpoint, r.source, r.partition_key, r.fetched, r.api_calls, r.staged, r.cleaned,
       r.loaded, r.quarantined, r.duplicates, r.started_at, r.finished_at, r.status, r.last_stage
FROM pipeline_runs r
JOIN (
    SELECT dag_id, run_id
    FROM (
        SELECT dag_id, run_id, ROW_NUMBER() OVER (PARTITION BY dag_id ORDER BY MAX(started_at) DESC, run_id DESC) AS n
        FROM pipeline_runs
        GROUP BY dag_id, run_id
    ) ranked
    WHERE n = 1
) last_run ON last_run.dag_id = r.dag_id AND last_run.run_id = r.run_id
ORDER BY r.dag_id, r.endpoint
