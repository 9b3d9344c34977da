-- The positions of link_positions_to_flights.sql's window that a flight this load added or changed may match: one
-- with their identity scheduled 20 hours before to an hour after the observation, in the flights this load added
-- or changed (load.CHANGED_FLIGHTS: the session's temporary table that publish_staging fills, keyed by identity and
-- scheduled departure, so each position costs one index probe). A superset of the link's own match (no origin,
-- no date, the staged values even where a more authoritative source kept the stored ones): never one too few.
-- Their keys go to the session's temporary table load.LINK_CANDIDATES, and the link updates those rows only.
--
-- Read from ix_positions_flight's entries alone (its airline, number and icao24 columns, migration 0019): the rows
-- of the window's other unlinked positions are never read. Most of them match no flight of the load (no airline
-- in the callsign, an airline none of our schedules covers), and an update of the window read each of their rows,
-- cold, to lock it: at 130 million positions 1.2 s of a day's load (bench/bench_growth.py). An INSERT ... SELECT
-- reads as an update does (the latest committed rows, locked shared: a position another load commits meanwhile
-- is not missed), and on MariaDB it probes the temporary table per position, never a join of the window with a
-- day of changed flights. tests/integration/test_quality_bounds.py checks the plan.
INSERT INTO {candidates} (observed_at, icao24)
SELECT p.observed_at, p.icao24
FROM flight_positions p FORCE INDEX (ix_positions_flight)
WHERE p.flight_id IS NULL AND p.airline_code IS NOT NULL
  AND p.observed_at >= %(since)s AND p.observed_at < %(until)s
  AND EXISTS (SELECT 1 FROM {changed} c
              WHERE c.airline_code = p.airline_code AND c.flight_number = p.flight_number
                AND c.scheduled_departure BETWEEN p.observed_at - INTERVAL 20 HOUR AND p.observed_at + INTERVAL 1 HOUR)
