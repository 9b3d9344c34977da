-- The day's index in page order becomes the day's covering index: every column a per-day reader filters on or
-- aggregates, after the page order. Those readers are /flights (airport, operating airline, status), the quality
-- checks of a partition (source, status, the null rates of arr_airport and scheduled_arrival, the airports) and
-- the day statistics every publish of flights refreshes (status, origin, airline, delays). Each now reads one day's
-- index entries and no row: before, each entry cost a row lookup (past what the buffer pool holds, a random
-- read), or, while a day was a large share of the table, a full table scan, which an INSERT ... SELECT
-- share-locks row by row (bench/bench_growth.py: the day statistics read 2.7 million rows after 3 days of
-- history, /flights?airport= grew 3.4x by 90 days). The index stays day first, so a load appends to its end.
ALTER TABLE flights
    DROP INDEX ix_flights_day_order,
    ADD KEY ix_flights_day_order (departure_date, scheduled_departure, airline_code, flight_number, dep_airport,
                                  arr_airport, operating_airline_code, status, source, scheduled_arrival,
                                  dep_delay_min, arr_delay_min);
