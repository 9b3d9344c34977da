-- Flights per local departure date and status over [date_from, date_to] (flight_day_stats: kept per date by the
-- loads, migration 0014).
SELECT departure_date, code AS status, flights
FROM flight_day_stats
WHERE dimension = 'status' AND departure_date BETWEEN %(date_from)s AND %(date_to)s
ORDER BY departure_date, status
