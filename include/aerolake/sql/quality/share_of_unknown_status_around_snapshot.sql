-- Share of a snapshot source's flights around the snapshot (scheduled from 24 h before to 12 h after it) whose
-- status code mapped to 'unknown'. Their local departure dates (indexed) bound the read.
-- Returns the rate, a detail (or NULL), and the sample it was taken over (quality.Check.min_sample).
SELECT COALESCE(AVG(CASE WHEN status = 'unknown' THEN 1 ELSE 0 END), 0), NULL, COUNT(*)
FROM flights
WHERE departure_date BETWEEN %(dt)s - INTERVAL 2 DAY AND %(dt)s + INTERVAL 2 DAY
  AND source = %(source)s
  AND scheduled_departure BETWEEN STR_TO_DATE(%(partition_key)s, '%%Y-%%m-%%d/%%H%%i') - INTERVAL 24 HOUR
                              AND STR_TO_DATE(%(partition_key)s, '%%Y-%%m-%%d/%%H%%i') + INTERVAL 12 HOUR
