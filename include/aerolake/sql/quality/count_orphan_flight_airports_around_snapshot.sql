-- A snapshot source's flights around the snapshot (scheduled from 24 h before to 12 h after it: what boards and
-- positions of one moment cover, e.g. Airlabs') whose departure or arrival airport is missing from airports. Their
-- local departure dates (indexed) bound the read to the days around the snapshot.
SELECT COUNT(*), GROUP_CONCAT(DISTINCT CONCAT(f.dep_airport, '->', f.arr_airport) SEPARATOR ',')
FROM flights f
LEFT JOIN airports d ON d.airport_code = f.dep_airport
LEFT JOIN airports a ON a.airport_code = f.arr_airport
WHERE f.departure_date BETWEEN %(dt)s - INTERVAL 2 DAY AND %(dt)s + INTERVAL 2 DAY
  AND f.source = %(source)s
  AND f.scheduled_departure BETWEEN STR_TO_DATE(%(partition_key)s, '%%Y-%%m-%%d/%%H%%i') - INTERVAL 24 HOUR
                                AND STR_TO_DATE(%(partition_key)s, '%%Y-%%m-%%d/%%H%%i') + INTERVAL 12 HOUR
  AND (d.airport_code IS NULL OR a.airport_code IS NULL)
