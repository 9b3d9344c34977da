-- Mean departure delay per %(dimension)s (dep_airport or airline_code) over [date_from, date_to], of the flights
-- with a known delay (flight_day_stats: their number and summed delay per date, kept by the loads, migration 0014).
SELECT code, SUM(flights) AS flights, SUM(delay_sum) / SUM(flights) AS mean_delay_min
FROM flight_day_stats
WHERE dimension = %(dimension)s AND departure_date BETWEEN %(date_from)s AND %(date_to)s
GROUP BY code
ORDER BY flights DESC, code
LIMIT %(limit)s
