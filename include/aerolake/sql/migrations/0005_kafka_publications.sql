-- What the streaming publisher delivered to Kafka: per topic and flight, the fingerprint of the last
-- acknowledged message and the outcome of the last attempt. A run publishes only flights whose fingerprint
-- changed or whose last attempt failed, so a rerun after a failure delivers exactly the unacknowledged ones.
-- `topic` is the topic name; publications to the offline in-process mock cluster are kept apart as `mock:<topic>`,
-- so configuring a real cluster later publishes everything to it.
CREATE TABLE IF NOT EXISTS kafka_publications (
    topic VARCHAR(255) NOT NULL,
    flight_id BIGINT NOT NULL,
    departure_date DATE NOT NULL,
    message_key VARCHAR(64) NOT NULL,
    fingerprint CHAR(64) NULL,
    kafka_partition INT NULL,
    kafka_offset BIGINT NULL,
    published_at DATETIME(3) NULL,
    last_status VARCHAR(10) NOT NULL,
    last_error VARCHAR(255) NULL,
    attempted_at DATETIME(3) NOT NULL,
    PRIMARY KEY (topic, flight_id),
    KEY ix_kafka_publications_date (topic, departure_date),
    CONSTRAINT fk_kafka_publications_flight FOREIGN KEY (flight_id) REFERENCES flights (flight_id) ON DELETE CASCADE,
    CONSTRAINT ck_kafka_publications_status CHECK (last_status IN ('delivered', 'failed'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
