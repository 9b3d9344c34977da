-- /flights filters one day by airport (departures or arrivals), airline (operating or marketing) and status. The
-- day's index in page order now carries every filtered column, so a count or a page reads the day's index
-- entries and nothing else: no row lookup per entry to read arr_airport, operating_airline_code or status, which
-- past what the buffer pool holds cost a random read each and grew with the history kept (bench/bench_growth.py:
-- /flights?airport= at 3.4x its N = 0 cost after 90 days). The index stays day first, so a load still appends
-- to its end.
ALTER TABLE flights
    DROP INDEX ix_flights_day_order,
    ADD KEY ix_flights_day_order (departure_date, scheduled_departure, airline_code, flight_number, dep_airport,
                                  arr_airport, operating_airline_code, status);
