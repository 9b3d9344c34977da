-- Endpoints of this run whose counts do not balance: fetched = loaded + quarantined + duplicates.
SELECT COUNT(*), GROUP_CONCAT(CONCAT(endpoint, ': fetched ', COALESCE(fetched, 'NULL'), ' != loaded ',
       COALESCE(loaded, 'NULL'), ' + quarantined ', quarantined, ' + duplicates ', duplicates) SEPARATOR '; ')
FROM pipeline_runs
WHERE dag_id = %(dag_id)s AND run_id = %(run_id)s AND fetched IS NOT NULL
  AND (loaded IS NULL OR fetched <> loaded + quarantined + duplicates)
