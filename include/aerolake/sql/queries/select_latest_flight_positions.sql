-- The latest live position of each flight of one departure date (newest observed_at; ties by icao24).
SELECT flight_id, observed_at, icao24, latitude, longitude, altitude_m, heading, speed_kmh, vertical_speed, on_ground
FROM (
    SELECT p.flight_id, p.observed_at, p.icao24, p.latitude, p.longitude, p.altitude_m, p.heading, p.speed_kmh,
           p.vertical_speed, p.on_ground,
           ROW_NUMBER() OVER (PARTITION BY p.flight_id ORDER BY p.observed_at DESC, p.icao24) AS newest
    FROM flight_positions p
    JOIN flights f ON f.flight_id = p.flight_id
    WHERE f.departure_date = %s
) ranked
WHERE newest = 1
