-- Share of the partition's flights with NULL in one column.
SELECT COALESCE(AVG(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END), 0)
FROM flights WHERE departure_date = %(dt)s AND source = %(source)s
