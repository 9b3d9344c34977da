-- Rows this run loaded for one endpoint (for Airlabs schedules: flights plus codeshares of the snapshot).
-- A snapshot is a moment, not a day, so its rows are counted from its own pipeline_runs row.
SELECT COALESCE(SUM(loaded), 0) FROM pipeline_runs
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND endpoint = %(endpoint)s
