-- The position link's lookup index: a flight's identity on a departure date, then its scheduled departure
-- (link_latest_flight_of_day.sql). The link asks, for each unlinked position and each of four local dates, the
-- latest flight of the position's identity scheduled in its window: through uq_flights_natural that was an index
-- entry and then a row lookup for scheduled_departure, per date and position. With this index each answer is in
-- its entries (the primary key, flight_id, is in every secondary entry of the unpartitioned flights): no row is
-- read. bench/bench_growth.py: a snapshot's load reads its flights' rows on four dates from the second day of
-- history on, one at N = 0 (at N = 90, 1.7 to 1.9 times N = 0's load).
--
-- On a large table this builds one index (in place; reads and writes go on meanwhile, but every pipeline task
-- waits at the migration lock): 22 s at 7.6 million flights here. Run `aerolake migrate` before deploying.
ALTER TABLE flights
    ADD KEY ix_flights_link (departure_date, airline_code, flight_number, dep_airport, scheduled_departure);
