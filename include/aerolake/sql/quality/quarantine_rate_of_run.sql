-- Share of this run's fetched records that went to quarantine.
-- Returns the rate, a detail (or NULL), and the sample it was taken over (quality.Check.min_sample).
SELECT COALESCE(SUM(quarantined) / NULLIF(SUM(fetched), 0), 0),
       GROUP_CONCAT(CONCAT(endpoint, '=', quarantined) SEPARATOR ', '), COALESCE(SUM(fetched), 0)
FROM pipeline_runs WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND fetched IS NOT NULL
