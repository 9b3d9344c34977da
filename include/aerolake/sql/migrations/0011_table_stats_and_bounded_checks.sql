-- Row counts kept by the loads instead of counted per request: `table_stats` holds, per data table, month of the
-- rows' date (`period` 'YYYY-MM' of departure_date or observed_at; '-' for tables without one) and source, the
-- rows that loads added and the newest `updated_at` they loaded. Every load updates it in its own transaction
-- (aerolake.stores.mysql.load), retention subtracts the months it drops; /status and /stats read it instead of
-- COUNT(*) and GROUP BY over whole tables. Filled here once from the tables as they are.
CREATE TABLE IF NOT EXISTS table_stats (
    table_name VARCHAR(64) NOT NULL,
    period VARCHAR(7) NOT NULL,
    source VARCHAR(20) NOT NULL,
    row_count BIGINT NOT NULL,
    newest DATETIME NULL,
    PRIMARY KEY (table_name, period, source)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'countries', '-', source, COUNT(*), MAX(updated_at) FROM countries GROUP BY source;
INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'cities', '-', source, COUNT(*), MAX(updated_at) FROM cities GROUP BY source;
INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'airports', '-', source, COUNT(*), MAX(updated_at) FROM airports GROUP BY source;
INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'airlines', '-', source, COUNT(*), MAX(updated_at) FROM airlines GROUP BY source;
INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'aircraft_types', '-', source, COUNT(*), MAX(updated_at) FROM aircraft_types GROUP BY source;
INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'flights', DATE_FORMAT(departure_date, '%Y-%m'), source, COUNT(*), MAX(updated_at) FROM flights
GROUP BY DATE_FORMAT(departure_date, '%Y-%m'), source;
INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'flight_codeshares', DATE_FORMAT(departure_date, '%Y-%m'), source, COUNT(*), MAX(updated_at)
FROM flight_codeshares GROUP BY DATE_FORMAT(departure_date, '%Y-%m'), source;
INSERT INTO table_stats (table_name, period, source, row_count, newest)
SELECT 'flight_positions', DATE_FORMAT(observed_at, '%Y-%m'), source, COUNT(*), MAX(updated_at)
FROM flight_positions GROUP BY DATE_FORMAT(observed_at, '%Y-%m'), source;

-- The freshness of the operational tables by index, not by scan.
ALTER TABLE pipeline_runs ADD KEY ix_pipeline_runs_finished (finished_at);
ALTER TABLE data_quality_results ADD KEY ix_quality_checked (checked_at);

-- Quality checks of a snapshot source read codeshares by date (orphans around the partition's day).
ALTER TABLE flight_codeshares ADD KEY ix_codeshares_departure (departure_date);
