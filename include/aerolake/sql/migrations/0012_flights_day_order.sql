-- /flights pages one day in scheduled order: the day's rows read in that order, never the whole table sorted.
ALTER TABLE flights ADD KEY ix_flights_day_order (departure_date, scheduled_departure, airline_code, flight_number,
                                                  dep_airport);
