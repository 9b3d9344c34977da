-- Marketing flight numbers of the flights of one departure date, keyed by the operating flight's natural key.
SELECT airline_code, flight_number, dep_airport, marketing_airline_code, marketing_flight_number
FROM flight_codeshares
WHERE departure_date = %s
ORDER BY airline_code, flight_number, dep_airport, marketing_airline_code, marketing_flight_number
