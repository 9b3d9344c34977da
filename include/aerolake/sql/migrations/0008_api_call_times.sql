-- The moments of each source's recent API calls, shared by every run and task: an API's hourly allowance (the
-- Lufthansa public plan's 1,000 calls an hour) is paced across processes by counting the last hour's calls here
-- (aerolake.stores.mysql.pacing). Rows older than an hour are deleted as calls are made.
CREATE TABLE IF NOT EXISTS api_call_times (
    call_id BIGINT NOT NULL AUTO_INCREMENT,
    source VARCHAR(20) NOT NULL,
    called_at DATETIME(3) NOT NULL,
    PRIMARY KEY (call_id),
    KEY ix_api_call_times_source (source, called_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
