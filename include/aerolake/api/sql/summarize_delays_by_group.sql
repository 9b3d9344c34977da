-- Mean departure delay per departure airport over [date_from, date_to] (flights with a known delay).
SELECT dep_airport AS code, COUNT(*) AS flights, AVG(dep_delay_min) AS mean_delay_min
FROM flights
WHERE departure_date BETWEEN %(date_from)s AND %(date_to)s AND dep_delay_min IS NOT NULL
GROUP BY dep_airport
ORDER BY flights DESC, code
LIMIT %(limit)s
