-- Share of this run's fetched records of the endpoints named (a tuple parameter) that went to quarantine: for a
-- source whose reference listings hold records the model cannot take by design (Airlabs lists many airports
-- without the IATA code the airports table is keyed by), which are quarantined with that reason and are no
-- sign of a bad run.
-- Returns the rate, a detail (or NULL), and the sample it was taken over (quality.Check.min_sample).
SELECT COALESCE(SUM(quarantined) / NULLIF(SUM(fetched), 0), 0),
       GROUP_CONCAT(CONCAT(endpoint, '=', quarantined) SEPARATOR ', '), COALESCE(SUM(fetched), 0)
FROM pipeline_runs
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND fetched IS NOT NULL AND endpoint IN %(endpoints)s
