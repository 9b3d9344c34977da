-- A message that was not acknowledged: the last published version (fingerprint, partition, offset, time) stays,
-- the failure is noted, and the next run publishes the flight again.
-- (Only %s placeholders in VALUES: PyMySQL's executemany then sends one multi-row INSERT per batch.)
INSERT INTO kafka_publications
    (topic, flight_id, departure_date, message_key, fingerprint, kafka_partition, kafka_offset, published_at,
     last_status, last_error, attempted_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE
    message_key = VALUES(message_key), last_status = VALUES(last_status), last_error = VALUES(last_error),
    attempted_at = VALUES(attempted_at)
