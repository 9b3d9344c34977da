-- The dashboard's aggregates of the departure dates %(dates)s, from flights (stores/mysql/stats.refresh_flight_days:
-- the dates a publish changed, in its transaction, after their old rows are deleted). One row per date and
-- status ('status'), per date and origin or airline of the flights with a known departure delay ('dep_airport',
-- 'airline_code': their number and summed delay), and per date of the operated flights with a known delay
-- ('on_time': their number and those under 15 minutes late, arrival delay first).
INSERT INTO flight_day_stats (dimension, departure_date, code, flights, delay_sum, on_time)
SELECT 'status', departure_date, status, COUNT(*), NULL, NULL
FROM flights WHERE departure_date IN %(dates)s
GROUP BY departure_date, status
UNION ALL
SELECT 'dep_airport', departure_date, dep_airport, COUNT(*), SUM(dep_delay_min), NULL
FROM flights WHERE departure_date IN %(dates)s AND dep_delay_min IS NOT NULL
GROUP BY departure_date, dep_airport
UNION ALL
SELECT 'airline_code', departure_date, airline_code, COUNT(*), SUM(dep_delay_min), NULL
FROM flights WHERE departure_date IN %(dates)s AND dep_delay_min IS NOT NULL
GROUP BY departure_date, airline_code
UNION ALL
SELECT 'on_time', departure_date, '', COUNT(*), NULL,
       SUM(CASE WHEN COALESCE(arr_delay_min, dep_delay_min) < 15 THEN 1 ELSE 0 END)
FROM flights WHERE departure_date IN %(dates)s AND status <> 'cancelled'
  AND COALESCE(arr_delay_min, dep_delay_min) IS NOT NULL
GROUP BY departure_date
