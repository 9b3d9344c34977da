-- The restriction of link_positions_to_flights.sql to the positions a flight of this load may match: one with
-- their identity scheduled 20 hours before to an hour after the observation, in the flights this load added or
-- changed (load.CHANGED_FLIGHTS: the session's temporary table that publish_staging fills, keyed by identity and
-- scheduled departure, so each position costs one index probe). A superset of the link's own match (no origin,
-- no date, the staged values even where a more authoritative source kept the stored ones): never one too few.
  AND EXISTS (SELECT 1 FROM {changed} c
              WHERE c.airline_code = p.airline_code AND c.flight_number = p.flight_number
                AND c.scheduled_departure BETWEEN p.observed_at - INTERVAL 20 HOUR AND p.observed_at + INTERVAL 1 HOUR)
