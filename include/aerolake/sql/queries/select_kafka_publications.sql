-- What was published to a topic for the flights of one departure date: the last acknowledged fingerprint
-- and the status of the last attempt.
SELECT flight_id, fingerprint, last_status
FROM kafka_publications
WHERE topic = %s AND departure_date = %s
