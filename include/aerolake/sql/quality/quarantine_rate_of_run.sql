-- Share of this run's fetched records that went to quarantine.
SELECT COALESCE(SUM(quarantined) / NULLIF(SUM(fetched), 0), 0),
       GROUP_CONCAT(CONCAT(endpoint, '=', quarantined) SEPARATOR ', ')
FROM pipeline_runs WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND fetched IS NOT NULL
