-- Share of the partition's flights whose source status code mapped to 'unknown'.
SELECT COALESCE(AVG(CASE WHEN status = 'unknown' THEN 1 ELSE 0 END), 0)
FROM flights WHERE departure_date = %(dt)s AND source = %(source)s
