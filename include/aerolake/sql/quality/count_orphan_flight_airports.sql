-- Flights whose departure or arrival airport is missing from airports.
SELECT COUNT(*), GROUP_CONCAT(DISTINCT CONCAT(f.dep_airport, '->', f.arr_airport) SEPARATOR ',')
FROM flights f
LEFT JOIN airports d ON d.airport_code = f.dep_airport
LEFT JOIN airports a ON a.airport_code = f.arr_airport
WHERE f.departure_date = %(dt)s AND (d.airport_code IS NULL OR a.airport_code IS NULL)
