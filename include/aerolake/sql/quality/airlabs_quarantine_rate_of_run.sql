-- Share of this run's fetched flight records (schedules and positions) that went to quarantine. The reference
-- listings are left out: Airlabs lists many airports without an IATA code, which the airports table (keyed by
-- IATA) cannot hold; they are quarantined with that reason, and are no sign of a bad snapshot.
SELECT COALESCE(SUM(quarantined) / NULLIF(SUM(fetched), 0), 0),
       GROUP_CONCAT(CONCAT(endpoint, '=', quarantined) SEPARATOR ', ')
FROM pipeline_runs
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND fetched IS NOT NULL AND endpoint IN ('schedules', 'flights')
