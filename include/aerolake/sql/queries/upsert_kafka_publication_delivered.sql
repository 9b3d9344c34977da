-- An acknowledged message: its fingerprint becomes the published version of the flight.
-- (Only %s placeholders in VALUES: PyMySQL's executemany then sends one multi-row INSERT per batch.)
INSERT INTO kafka_publications
    (topic, flight_id, departure_date, message_key, fingerprint, kafka_partition, kafka_offset, published_at,
     last_status, last_error, attempted_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE
    message_key = VALUES(message_key), fingerprint = VALUES(fingerprint),
    kafka_partition = VALUES(kafka_partition), kafka_offset = VALUES(kafka_offset),
    published_at = VALUES(published_at), last_status = VALUES(last_status), last_error = VALUES(last_error),
    attempted_at = VALUES(attempted_at)
