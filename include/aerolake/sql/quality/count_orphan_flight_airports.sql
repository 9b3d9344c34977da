-- The source's flights of the partition's day whose departure or arrival airport is missing from airports (the
-- foreign keys should make this 0; checked, not assumed). The source's own, as count_orphan_codeshares_of_day.sql:
-- other sources' flights of the day were judged by their own loads, and an OpenSky snapshot (which writes no
-- flights) read all of the day's every 10 minutes, two airport probes each (bench/bench_growth.py: 0.22 s of a
-- 0.5 s load at 84,000 flights). ix_flights_day_order holds the source: a flight of another source costs one
-- index entry, no probe.
SELECT COUNT(*), GROUP_CONCAT(DISTINCT CONCAT(f.dep_airport, '->', f.arr_airport) SEPARATOR ',')
FROM flights f
LEFT JOIN airports d ON d.airport_code = f.dep_airport
LEFT JOIN airports a ON a.airport_code = f.arr_airport
WHERE f.departure_date = %(dt)s AND f.source = %(source)s AND (d.airport_code IS NULL OR a.airport_code IS NULL)
