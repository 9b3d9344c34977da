-- A snapshot source's codeshares of the days around the snapshot (its boards reach from the day before to the day
-- after) whose operating flight is missing from flights (the foreign key should make this 0; checked, not
-- assumed).
SELECT COUNT(*), GROUP_CONCAT(DISTINCT CONCAT(c.marketing_airline_code, c.marketing_flight_number, '->',
       c.airline_code, c.flight_number) SEPARATOR ',')
FROM flight_codeshares c
LEFT JOIN flights f ON f.airline_code = c.airline_code AND f.flight_number = c.flight_number
                   AND f.departure_date = c.departure_date AND f.dep_airport = c.dep_airport
WHERE c.departure_date BETWEEN %(dt)s - INTERVAL 1 DAY AND %(dt)s + INTERVAL 1 DAY
  AND c.source = %(source)s AND f.flight_id IS NULL
