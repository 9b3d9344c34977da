-- Flights per local departure date and status over [date_from, date_to].
SELECT departure_date, status, COUNT(*) AS flights
FROM flights
WHERE departure_date BETWEEN %(date_from)s AND %(date_to)s
GROUP BY departure_date, status
ORDER BY departure_date, status
