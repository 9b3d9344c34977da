-- Share of the partition's flights with NULL in one column.
-- Returns the rate, a detail (or NULL), and the sample it was taken over (quality.Check.min_sample).
SELECT COALESCE(AVG(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END), 0), NULL, COUNT(*)
FROM flights WHERE departure_date = %(dt)s AND source = %(source)s
