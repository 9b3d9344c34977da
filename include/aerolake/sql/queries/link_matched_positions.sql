-- The link's write (link_positions_to_flights.sql found the flights): each matched position's flight_id, its row
-- found by its primary key. A position another load linked meanwhile keeps the link that load gave it.
UPDATE {matches} m STRAIGHT_JOIN flight_positions p ON p.observed_at = m.observed_at AND p.icao24 = m.icao24
SET p.flight_id = m.flight_id
WHERE p.flight_id IS NULL
