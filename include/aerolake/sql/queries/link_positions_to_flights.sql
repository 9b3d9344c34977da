-- Resolve flight_positions.flight_id from the flight identity the source reported (airline, number, origin):
-- the flight of that identity whose scheduled departure is the latest one at most an hour after the
-- observation and at most 20 hours before it (taxiing out early, long-haul still airborne). A position whose
-- source names no origin (a transponder's callsign is airline and number only) matches on airline and number
-- alone: within that window the latest departed leg is the one in the air. Only positions not yet linked,
-- observed in [%(since)s, %(until)s), are looked at (load.link_positions_to_flights); run after every load that
-- publishes flights or positions, so whichever arrives second links them:
-- * a load's own positions, every one of them;
-- * the positions observed while the flights a load wrote could be in the air: only those a flight this load added
--   or changed may match (link_near_changed_flights.sql). Every other unlinked position there matched no flight
--   when it was loaded nor after any later load of flights, and the flights it could match are as they were. At
--   world scale most unlinked positions carry an airline (OpenSky's callsigns of every airline; our flight sources
--   know a few hubs'), and a load of flights every 10 minutes (Airlabs) would otherwise look each of a day's up
--   again, three lookups each, every run.
--
-- How, at world scale: a 20-hour window touches four local departure dates in any time zone (three of them for
-- a given time of the observation, link_latest_flight_of_day.sql), and each date is its
-- own subquery (link_latest_flight_of_day.sql once per date, load.link_statement), an equality on
-- ix_flights_link's first three columns (departure_date, airline, number: one index lookup, an entry or two, which
-- hold the origin, scheduled departure and id: no row read, migration 0018). Each
-- answers its latest match as one sortable text, the scheduled departure then the zero-padded id; GREATEST picks
-- the latest of the four and the id is cut back out. Not one subquery with
-- "departure_date IN (four dates) ORDER BY scheduled_departure LIMIT 1": values that depend on the outer row give
-- MySQL and MariaDB no range access, and they read the whole (departure_date, scheduled_departure) index for every
-- position instead (90,000 entries a day per position, minutes for one snapshot; bench/bench_growth.py). The index
-- is named (FORCE INDEX, on MySQL and MariaDB): with a day of world-scale flights MariaDB chose, at run time though
-- not in EXPLAIN, the covering (departure_date, scheduled_departure, ...) index on the date alone, the same read.
-- The positions (load.link_statement): a load's own come from (flight_id, observed_at) as one range,
-- also named: not the whole window's positions (at world scale 60,000 an hour, nearly all of them already linked)
-- through the primary key, nor every unlinked position of the month through flight_id IS NULL alone (migration
-- 0017). Those near a changed flight are the keys link_near_changed_flights.sql found in that index alone, each
-- row then read by its primary key: an update reads the row of every position it passes, to lock it.
-- tests/integration/test_quality_bounds.py checks the plan and counts the index entries the link reads.
UPDATE {positions}
SET p.flight_id = CAST(SUBSTRING(NULLIF(GREATEST({latest_of_days}), ''), 20) AS UNSIGNED)
WHERE p.flight_id IS NULL AND p.airline_code IS NOT NULL
  AND p.observed_at >= %(since)s AND p.observed_at < %(until)s
