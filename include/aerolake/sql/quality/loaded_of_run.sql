-- Rows this run loaded for one endpoint, counted from its own pipeline_runs rows: a snapshot is
-- a moment, not a day (e.g. Airlabs' schedules: the flights plus codeshares of the snapshot).
SELECT COALESCE(SUM(loaded), 0) FROM pipeline_runs
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND endpoint = %(endpoint)s
