-- Resolve flight_positions.flight_id from the flight identity the source reported (airline, number, origin):
-- the flight of that identity whose scheduled departure is the latest one at most an hour after the
-- observation and at most 20 hours before it (taxiing out early, long-haul still airborne). A position whose
-- source names no origin (a transponder's callsign is airline and number only) matches on airline and number
-- alone: within that window the latest departed leg is the one in the air. Only positions
-- not yet linked, observed in [%(since)s, %(until)s), are looked at: around the partition's day after a load of
-- flights, the load's own positions' moments after a load of positions alone (load.link_positions_to_flights); run
-- after every load that publishes flights or positions, so whichever arrives second links them. The flight is looked up by its natural
-- key (day first) on the four local departure dates a 20-hour window can touch in any time zone: four index
-- lookups, however many days the table holds.
UPDATE flight_positions p
SET p.flight_id = (
    SELECT f.flight_id FROM flights f
    WHERE f.departure_date IN (DATE(p.observed_at) - INTERVAL 2 DAY, DATE(p.observed_at) - INTERVAL 1 DAY,
                               DATE(p.observed_at), DATE(p.observed_at) + INTERVAL 1 DAY)
      AND f.airline_code = p.airline_code AND f.flight_number = p.flight_number
      AND (p.dep_airport IS NULL OR f.dep_airport = p.dep_airport)
      AND f.scheduled_departure BETWEEN p.observed_at - INTERVAL 20 HOUR AND p.observed_at + INTERVAL 1 HOUR
    ORDER BY f.scheduled_departure DESC
    LIMIT 1
)
WHERE p.flight_id IS NULL AND p.airline_code IS NOT NULL
  AND p.observed_at >= %(since)s AND p.observed_at < %(until)s
