-- Share of the partition's flights whose source status code mapped to 'unknown'.
-- Returns the rate, a detail (or NULL), and the sample it was taken over (quality.Check.min_sample).
SELECT COALESCE(AVG(CASE WHEN status = 'unknown' THEN 1 ELSE 0 END), 0), NULL, COUNT(*)
FROM flights WHERE departure_date = %(dt)s AND source = %(source)s
