-- Flights departing the partition's date (local date at origin) from the given airports.
SELECT COUNT(*) FROM flights
WHERE departure_date = %(dt)s AND source = %(source)s
