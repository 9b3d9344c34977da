-- On-time rate per day: share of operated flights (not cancelled) with a known delay whose arrival delay
-- (departure delay when the arrival is unknown) is under 15 minutes, the usual industry threshold.
SELECT departure_date,
       COUNT(*) AS flights,
       SUM(CASE WHEN COALESCE(arr_delay_min, dep_delay_min) < 15 THEN 1 ELSE 0 END) AS on_time
FROM flights
WHERE departure_date BETWEEN %(date_from)s AND %(date_to)s
  AND status <> 'cancelled'
  AND COALESCE(arr_delay_min, dep_delay_min) IS NOT NULL
GROUP BY departure_date
ORDER BY departure_date
