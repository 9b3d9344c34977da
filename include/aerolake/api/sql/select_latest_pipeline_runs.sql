-- Per DAG, the endpoints of its most recent run (by start time; a tie by run_id), with their stage counts. The DAGs
-- from a loose scan of an index, each DAG's newest run from the end of ix_pipeline_runs_dag_started (migration
-- 0015): a few index reads per DAG however many runs the table has kept, not a GROUP BY over all of them.
SELECT r.dag_id, r.run_id, r.endpoint, r.source, r.partition_key, r.fetched, r.api_calls, r.staged, r.cleaned,
       r.loaded, r.quarantined, r.duplicates, r.started_at, r.finished_at, r.status, r.last_stage
FROM pipeline_runs r
JOIN (
    SELECT d.dag_id,
           (SELECT p.run_id FROM pipeline_runs p
            WHERE p.dag_id = d.dag_id
            ORDER BY p.started_at DESC, p.run_id DESC
            LIMIT 1) AS run_id
    FROM (SELECT DISTINCT dag_id FROM pipeline_runs) d
) last_run ON last_run.dag_id = r.dag_id AND last_run.run_id = r.run_id
ORDER BY r.dag_id, r.endpoint
