-- Rows this run loaded for one endpoint (flights plus codeshares for `flights`): the partition's own count,
-- whichever source the merged flights rows credit afterwards.
SELECT COALESCE(SUM(loaded), 0) FROM pipeline_runs
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND endpoint = %(endpoint)s
