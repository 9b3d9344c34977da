-- On-time rate per day: share of operated flights (not cancelled) with a known delay whose arrival delay
-- (departure delay when the arrival is unknown) is under 15 minutes, the usual industry threshold
-- (flight_day_stats: kept per date by the loads, migration 0014).
SELECT departure_date, flights, on_time
FROM flight_day_stats
WHERE dimension = 'on_time' AND departure_date BETWEEN %(date_from)s AND %(date_to)s
ORDER BY departure_date
