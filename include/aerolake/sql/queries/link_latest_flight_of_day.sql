-- One departure date's part of link_positions_to_flights.sql: of the flights of the position's identity departing
-- on local date DATE(p.observed_at) {offset} (an equality on ix_flights_link's first three columns, the index
-- named; its entries hold the origin, the scheduled departure and the id, so no row is read: migration 0018), the
-- latest scheduled at most an hour after the observation and at most 20 hours before it, as
-- "scheduled departure + zero-padded flight_id" ('' when none).
-- Looked up only when that date can hold such a flight: a departure 20 hours before to an hour after the
-- observation, in local time (UTC-12 to UTC+14), falls 32 hours before to 15 hours after it, so of the four dates
-- an observation before 08:00 UTC skips the next day's, one after 09:00 the day before yesterday's (and one in
-- between both): three lookups a position, not four, and never into a day that cannot match.
CASE WHEN DATE(p.observed_at) {offset} BETWEEN DATE(p.observed_at - INTERVAL 32 HOUR)
                                           AND DATE(p.observed_at + INTERVAL 15 HOUR)
THEN COALESCE((SELECT MAX(CONCAT(f.scheduled_departure, LPAD(f.flight_id, 20, '0')))
               FROM flights f FORCE INDEX (ix_flights_link)
               WHERE f.departure_date = DATE(p.observed_at) {offset}
                 AND f.airline_code = p.airline_code AND f.flight_number = p.flight_number
                 AND (p.dep_airport IS NULL OR f.dep_airport = p.dep_airport)
                 AND f.scheduled_departure BETWEEN p.observed_at - INTERVAL 20 HOUR
                                               AND p.observed_at + INTERVAL 1 HOUR),
              '')
ELSE '' END
