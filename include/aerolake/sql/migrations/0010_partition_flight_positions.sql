-- flight_positions becomes partitioned by month of observed_at (RANGE COLUMNS, on MySQL 8 and MariaDB), so that a
-- load, a link and a reader touch only the months they ask for and retention drops whole months
-- (aerolake.stores.mysql.partitions; docs/architecture.md, "Positions: partitioned by month").
--
-- MySQL's partitioning rules change the keys: every unique key must contain observed_at, so the primary key is the
-- natural key (icao24, observed_at), ordered (observed_at, icao24) so that inserts append to the newest month;
-- position_id stays an AUTO_INCREMENT with a plain key. ix_positions_flight stays (a flight's positions: the
-- streaming records). ix_positions_observed is the primary key's prefix, and ix_positions_flight_identity served no
-- query (link_positions_to_flights reads a partition's positions by time and looks their flights up in flights'
-- natural key): both go, two fewer indexes to write for 1.4 million rows a day.
-- A partitioned InnoDB table can neither have nor be referenced by a foreign key: fk_positions_flight goes. Only
-- link_positions_to_flights sets flight_id, from flights it reads, and flights are never deleted; the error-level
-- check orphan_position_flights (sql/quality/count_orphan_position_flights.sql) verifies it per partition.
-- The CHECK constraints keep their rules but lose their names (ck_positions_*): MySQL 8 wants CHECK names unique per
-- schema, and a copy is made while another table holds them (the old one, or on a rerun the new one); unnamed,
-- MySQL names them <table>_chk_<n> and renames them with the table.
--
-- How: a new table, one partition per month the rows hold, a copy, a swap. The copy and the swap run under LOCK
-- TABLES ... WRITE, so no writer can add or change a row between them (a writer that waits meanwhile gets the new
-- table, or an error it is retried on; never a silent loss). Every step can be rerun after a crash (the migration is
-- recorded only once all of them succeeded): the first statements finish a swap a crash cut between its two
-- renames, then drop what is left of an earlier attempt, never a table holding the only copy of a row.

SELECT IF(COUNT(*) = 0, 'RENAME TABLE flight_positions_partitioned TO flight_positions', 'DO 0')
INTO @aerolake_0010_resume
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'flight_positions';
PREPARE aerolake_0010_resume FROM @aerolake_0010_resume;
EXECUTE aerolake_0010_resume;
DEALLOCATE PREPARE aerolake_0010_resume;

DROP TABLE IF EXISTS flight_positions_partitioned;
DROP TABLE IF EXISTS flight_positions_unpartitioned;

CREATE TABLE flight_positions_partitioned (
    position_id BIGINT NOT NULL AUTO_INCREMENT,
    icao24 CHAR(6) NOT NULL,
    observed_at DATETIME NOT NULL,
    flight_id BIGINT NULL,
    airline_code VARCHAR(3) NULL,
    flight_number VARCHAR(5) NULL,
    dep_airport CHAR(3) NULL,
    arr_airport CHAR(3) NULL,
    registration VARCHAR(10) NULL,
    aircraft_code VARCHAR(4) NULL,
    latitude DOUBLE NOT NULL,
    longitude DOUBLE NOT NULL,
    altitude_m DOUBLE NULL,
    heading DOUBLE NULL,
    speed_kmh DOUBLE NULL,
    vertical_speed DOUBLE NULL,
    on_ground BOOLEAN NULL,
    source VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (observed_at, icao24),
    KEY ix_positions_id (position_id),
    KEY ix_positions_flight (flight_id),
    CHECK (latitude BETWEEN -90 AND 90),
    CHECK (longitude BETWEEN -180 AND 180)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
PARTITION BY RANGE COLUMNS (observed_at) (
    PARTITION p_start VALUES LESS THAN ('1970-01-01 00:00:00'),
    PARTITION pmax VALUES LESS THAN (MAXVALUE)
);

LOCK TABLES flight_positions WRITE, flight_positions_partitioned WRITE;

-- One partition per month that holds rows (pYYYYMM: from its first instant to the next month's), split from the
-- empty table's two (instant); p_start ends where the first month begins. With no rows the table keeps p_start and
-- pmax: the first load makes its months (partitions.ensure_months).
SET SESSION group_concat_max_len = 1048576;
SELECT COALESCE(CONCAT(
    'ALTER TABLE flight_positions_partitioned REORGANIZE PARTITION p_start, pmax INTO (',
    'PARTITION p_start VALUES LESS THAN (''', MIN(month_start), '''), ',
    GROUP_CONCAT(CONCAT('PARTITION p', DATE_FORMAT(month_start, '%Y%m'), ' VALUES LESS THAN (''',
                        month_start + INTERVAL 1 MONTH, ''')') ORDER BY month_start SEPARATOR ', '),
    ', PARTITION pmax VALUES LESS THAN (MAXVALUE))'), 'DO 0')
INTO @aerolake_0010_split
FROM (SELECT DISTINCT CAST(DATE_FORMAT(observed_at, '%Y-%m-01') AS DATETIME) AS month_start
      FROM flight_positions) AS months;
PREPARE aerolake_0010_split FROM @aerolake_0010_split;
EXECUTE aerolake_0010_split;
DEALLOCATE PREPARE aerolake_0010_split;

INSERT INTO flight_positions_partitioned (
    position_id, icao24, observed_at, flight_id, airline_code, flight_number, dep_airport, arr_airport, registration,
    aircraft_code, latitude, longitude, altitude_m, heading, speed_kmh, vertical_speed, on_ground, source, updated_at)
SELECT position_id, icao24, observed_at, flight_id, airline_code, flight_number, dep_airport, arr_airport,
       registration, aircraft_code, latitude, longitude, altitude_m, heading, speed_kmh, vertical_speed, on_ground,
       source, updated_at
FROM flight_positions
ORDER BY observed_at, icao24;

ALTER TABLE flight_positions RENAME TO flight_positions_unpartitioned;
ALTER TABLE flight_positions_partitioned RENAME TO flight_positions;
UNLOCK TABLES;

DROP TABLE flight_positions_unpartitioned;
