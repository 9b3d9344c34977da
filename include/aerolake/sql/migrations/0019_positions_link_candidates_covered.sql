-- ix_positions_flight also holds the identity a position reports (airline, number) and the rest of its primary key
-- (icao24): the link after a load of flights finds the positions a changed flight may match in the index alone
-- (link_near_changed_flights.sql), without reading the row of every unlinked position it passes. Most unlinked
-- positions of a day of flights' window match no flight of the load: aircraft with no airline in their callsign,
-- airlines none of our schedules covers. An update reads every row it passes (to lock it), so the link read each
-- of them, cold, from the clustered index: at 130 million positions (bench/bench_growth.py) 17,595 rows of the
-- evening before the day loaded, 1.2 s of a day's load_to_mysql that an empty table never pays. The first two
-- columns stay: the link's own positions, the streaming records and the latest positions read
-- (flight_id, observed_at) ranges as before. icao24 is written out because a partitioned table's secondary index
-- is not known to hold the primary key's columns (migration 0017); InnoDB stores it once either way.
--
-- On a large table this rebuilds one index (in place; reads and writes go on meanwhile, but every pipeline task
-- waits at the migration lock): 213 s at 128 million positions here, 9.4 bytes more index a position. Run
-- `aerolake migrate` before deploying the DAGs that need it.
ALTER TABLE flight_positions
    DROP INDEX ix_positions_flight,
    ADD KEY ix_positions_flight (flight_id, observed_at, airline_code, flight_number, icao24);
