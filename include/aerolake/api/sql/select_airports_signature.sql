-- A cheap fingerprint of the airports table: changes when a row is added, removed, re-dated or moved.
-- One scan of a few thousand rows, run at most every index_check_interval_s, never per request.
SELECT COUNT(*) AS row_count,
       MAX(updated_at) AS newest,
       COALESCE(SUM(CRC32(CONCAT_WS('|', airport_code, latitude, longitude, location_type))), 0) AS checksum
FROM airports
