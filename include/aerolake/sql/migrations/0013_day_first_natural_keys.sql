-- The natural keys of flights and codeshares indexed day first: (departure_date, airline, number, origin) is the
-- same set of unique keys as (airline, number, departure_date, origin), but a day's rows now sit together in the
-- index. A load's uniqueness checks, upserts and lookups of one day then touch a few index pages at the index's
-- end, instead of one page per flight number across every day of history (which, past what the buffer pool
-- holds, cost a random read per row and grew with the days kept). The codeshares' foreign key follows the new
-- column order. The lone departure_date indexes become the keys' prefix and go.
ALTER TABLE flight_codeshares DROP FOREIGN KEY fk_codeshares_flight;

ALTER TABLE flights
    DROP INDEX uq_flights_natural,
    ADD UNIQUE KEY uq_flights_natural (departure_date, airline_code, flight_number, dep_airport),
    DROP INDEX ix_flights_departure_date;

ALTER TABLE flight_codeshares
    DROP INDEX uq_codeshares_natural,
    ADD UNIQUE KEY uq_codeshares_natural (departure_date, marketing_airline_code, marketing_flight_number, dep_airport),
    DROP INDEX ix_codeshares_operating,
    ADD KEY ix_codeshares_operating (departure_date, airline_code, flight_number, dep_airport),
    DROP INDEX ix_codeshares_departure;

ALTER TABLE flight_codeshares
    ADD CONSTRAINT fk_codeshares_flight FOREIGN KEY (departure_date, airline_code, flight_number, dep_airport)
        REFERENCES flights (departure_date, airline_code, flight_number, dep_airport);
