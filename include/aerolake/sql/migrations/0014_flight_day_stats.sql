-- The dashboard's aggregates kept per departure date (/stats: flights per day and status, mean departure delay per
-- origin and per airline, on-time rate per day), so that a request over 30 days reads a few thousand rows instead of
-- aggregating 30 days of flights (2.5 million rows at world scale) four times. Each publish that changes flights
-- refreshes the dates it changed, in its own transaction (stores/mysql/stats.refresh_flight_days); `aerolake
-- recount` rebuilds the table. `dimension` first: a request reads one dimension's range of dates.
CREATE TABLE IF NOT EXISTS flight_day_stats (
    dimension VARCHAR(16) NOT NULL,
    departure_date DATE NOT NULL,
    code VARCHAR(10) NOT NULL,
    flights INT NOT NULL,
    delay_sum BIGINT NULL,
    on_time INT NULL,
    PRIMARY KEY (dimension, departure_date, code),
    CONSTRAINT ck_flight_day_stats_dimension CHECK (dimension IN ('status', 'dep_airport', 'airline_code', 'on_time'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- what the flights already hold (one pass over the table, once). READ COMMITTED: the copy reads the flights without
-- locking each row it reads (under REPEATABLE READ an INSERT ... SELECT share-locks every source row, and years of
-- flights exceed InnoDB's lock table: error 1206 at 7.5 million flights with a 128 MiB buffer pool)
SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
DELETE FROM flight_day_stats;
INSERT INTO flight_day_stats (dimension, departure_date, code, flights, delay_sum, on_time)
SELECT 'status', departure_date, status, COUNT(*), NULL, NULL
FROM flights GROUP BY departure_date, status
UNION ALL
SELECT 'dep_airport', departure_date, dep_airport, COUNT(*), SUM(dep_delay_min), NULL
FROM flights WHERE dep_delay_min IS NOT NULL GROUP BY departure_date, dep_airport
UNION ALL
SELECT 'airline_code', departure_date, airline_code, COUNT(*), SUM(dep_delay_min), NULL
FROM flights WHERE dep_delay_min IS NOT NULL GROUP BY departure_date, airline_code
UNION ALL
SELECT 'on_time', departure_date, '', COUNT(*), NULL,
       SUM(CASE WHEN COALESCE(arr_delay_min, dep_delay_min) < 15 THEN 1 ELSE 0 END)
FROM flights WHERE status <> 'cancelled' AND COALESCE(arr_delay_min, dep_delay_min) IS NOT NULL
GROUP BY departure_date;
SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;
