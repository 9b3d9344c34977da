-- Mean departure delay per {group} (a flights column: dep_airport, airline_code) over [date_from, date_to]
-- (flights with a known delay).
SELECT {group} AS code, COUNT(*) AS flights, AVG(dep_delay_min) AS mean_delay_min
FROM flights
WHERE departure_date BETWEEN %(date_from)s AND %(date_to)s AND dep_delay_min IS NOT NULL
GROUP BY {group}
ORDER BY flights DESC, code
LIMIT %(limit)s
