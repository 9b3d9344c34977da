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
-- This statement finds each matched position's flight, into the session's temporary table {matches};
-- link_matched_positions.sql then writes them.
--
-- How, at world scale: a 20-hour window touches four local departure dates in any time zone, and of those three
-- for a given time of the observation: a departure 20 hours before to an hour after it falls, in local time
-- (UTC-12 to UTC+14), 32 hours before to 15 hours after it, so an observation before 08:00 UTC skips the next
-- day's date, one after 09:00 the day before yesterday's (and one in between both). Each position joins those
-- dates (d) and, per date, its identity's flights by an equality on ix_flights_link's first three columns
-- (departure_date, airline, number: one index lookup, an entry or two, which hold the origin, scheduled departure
-- and id: no row read, migration 0018); the latest match is the greatest "scheduled departure + zero-padded id"
-- of the position's group, and the id is cut back out. A join, not a correlated subquery per date: a subquery
-- is set up and run once per position and date (three times a position), and each index entry it reads costs
-- more there: for a world-scale snapshot the join's lookups took about half the subqueries' time, and a day
-- before D full of flights (every day but the first) added about a third of what it added to them
-- (bench/README.md, "Results after the position link became one join"). Not one range "departure_date IN (four
-- dates) ORDER BY scheduled_departure": values that depend on the position give MySQL and MariaDB no range
-- access ("range checked for each record"), and they read the dates' whole index per position (90,000 entries a
-- day, minutes for one snapshot). The index is named
-- (FORCE INDEX, on MySQL and MariaDB): with a day of world-scale flights MariaDB chose, at run time though not
-- in EXPLAIN, the covering (departure_date, scheduled_departure, ...) index on the date alone, the same read.
-- The positions (load.link_statements): a load's own come from (flight_id, observed_at) as one range,
-- also named: not the whole window's positions (at world scale 60,000 an hour, nearly all of them already linked)
-- through the primary key, nor every unlinked position of the month through flight_id IS NULL alone (migration
-- 0017). Those near a changed flight are the keys link_near_changed_flights.sql found in that index alone, each
-- row then read by its primary key. Like an update, an INSERT ... SELECT reads the latest committed rows and
-- locks them (shared): the flights a position is linked to are there when the update commits. Two loads that
-- link the same committed, unlinked positions at once can deadlock where both then lock them to write (the update
-- did not read before it locked); MySQL rolls one load's transaction back, and its task's retry loads it again.
-- tests/integration/test_quality_bounds.py checks the plan and counts the index entries the link reads.
INSERT INTO {matches} (observed_at, icao24, flight_id)
SELECT p.observed_at, p.icao24,
       CAST(SUBSTRING(MAX(CONCAT(f.scheduled_departure, LPAD(f.flight_id, 20, '0'))), 20) AS UNSIGNED)
FROM {positions}
STRAIGHT_JOIN (SELECT -2 AS days UNION ALL SELECT -1 UNION ALL SELECT 0 UNION ALL SELECT 1) d
  ON DATE(p.observed_at) + INTERVAL d.days DAY BETWEEN DATE(p.observed_at - INTERVAL 32 HOUR)
                                                   AND DATE(p.observed_at + INTERVAL 15 HOUR)
STRAIGHT_JOIN flights f FORCE INDEX (ix_flights_link)
  ON f.departure_date = DATE(p.observed_at) + INTERVAL d.days DAY
 AND f.airline_code = p.airline_code AND f.flight_number = p.flight_number
 AND (p.dep_airport IS NULL OR f.dep_airport = p.dep_airport)
 AND f.scheduled_departure BETWEEN p.observed_at - INTERVAL 20 HOUR AND p.observed_at + INTERVAL 1 HOUR
WHERE p.flight_id IS NULL AND p.airline_code IS NOT NULL
  AND p.observed_at >= %(since)s AND p.observed_at < %(until)s
GROUP BY p.observed_at, p.icao24
