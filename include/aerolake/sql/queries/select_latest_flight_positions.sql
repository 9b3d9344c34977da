-- The latest live position of each flight of one departure date (newest observed_at; ties by icao24).
-- A position is linked to a flight scheduled 1 hour after to 20 hours before it (link_positions_to_flights), and a
-- flight's departure_date is the local date at its origin (UTC-12 to UTC+14): its positions are observed from 15
-- hours before that date to 2 days and 8 hours after its start. The bound on observed_at (a day before, three
-- after) says so to MySQL, which then reads the one or two monthly partitions of flight_positions that hold them
-- instead of probing every month's index.
SELECT flight_id, observed_at, icao24, latitude, longitude, altitude_m, heading, speed_kmh, vertical_speed, on_ground
FROM (
    SELECT p.flight_id, p.observed_at, p.icao24, p.latitude, p.longitude, p.altitude_m, p.heading, p.speed_kmh,
           p.vertical_speed, p.on_ground,
           ROW_NUMBER() OVER (PARTITION BY p.flight_id ORDER BY p.observed_at DESC, p.icao24) AS newest
    FROM flight_positions p
    JOIN flights f ON f.flight_id = p.flight_id
    WHERE f.departure_date = %(day)s
      AND p.observed_at >= %(day)s - INTERVAL 1 DAY AND p.observed_at < %(day)s + INTERVAL 3 DAY
) ranked
WHERE newest = 1
