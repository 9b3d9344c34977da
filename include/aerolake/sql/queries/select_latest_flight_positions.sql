-- The latest live position of each flight of one departure date (newest observed_at; ties by icao24, the caller
-- keeping the first row of a flight).
-- A position is linked to a flight scheduled 1 hour after to 20 hours before it (link_positions_to_flights), and a
-- flight's departure_date is the local date at its origin (UTC-12 to UTC+14): its positions are observed from 15
-- hours before that date to 2 days and 8 hours after its start. The bound on observed_at (a day before, three
-- after) says so to MySQL, which then reads the one or two monthly partitions of flight_positions that hold them.
--
-- Per flight of the date, one index dive to the end of its (flight_id, observed_at) range (migration 0017) finds its
-- newest moment, a second reads that moment's rows: a few reads per flight however many positions it has. Ranking
-- every position of the date's flights (ROW_NUMBER) read them all, each with its row: by evening 1.4 million a day
-- at world scale, read twice per snapshot (write_curated, publish_to_kafka).
SELECT f.flight_id, p.observed_at, p.icao24, p.latitude, p.longitude, p.altitude_m, p.heading, p.speed_kmh,
       p.vertical_speed, p.on_ground
FROM flights f FORCE INDEX (ix_flights_day_order)
JOIN flight_positions p FORCE INDEX (ix_positions_flight)
  ON p.flight_id = f.flight_id
 AND p.observed_at = (SELECT l.observed_at
                      FROM flight_positions l FORCE INDEX (ix_positions_flight)
                      WHERE l.flight_id = f.flight_id
                        AND l.observed_at >= %(day)s - INTERVAL 1 DAY AND l.observed_at < %(day)s + INTERVAL 3 DAY
                      ORDER BY l.observed_at DESC
                      LIMIT 1)
WHERE f.departure_date = %(day)s
ORDER BY f.flight_id, p.icao24
