-- The latest observed position of each aircraft seen within `window` minutes before the newest observation
-- (relative to the data, not to now(): replayed and offline data show up too). Both reads are bounded by
-- %(since)s, so MySQL reads only the monthly partitions of flight_positions that hold the window (the primary key
-- leads with observed_at).
SELECT p.icao24, p.observed_at, p.latitude, p.longitude, p.altitude_m, p.heading, p.speed_kmh, p.on_ground,
       p.airline_code, p.flight_number, p.dep_airport, p.arr_airport, p.registration, p.aircraft_code, p.source
FROM flight_positions p
JOIN (
    SELECT icao24, MAX(observed_at) AS observed_at
    FROM flight_positions
    WHERE observed_at >= %(since)s
    GROUP BY icao24
) latest ON latest.icao24 = p.icao24 AND latest.observed_at = p.observed_at
WHERE p.observed_at >= %(since)s
ORDER BY p.observed_at DESC, p.icao24
LIMIT %(limit)s
