-- Three sources, one model (Airlabs and Aviation Stack join Lufthansa).

-- Who said what about a flight: source/updated_at are the observation whose schedule and times the row holds
-- (by source precedence, see aerolake.precedence); status_source/status_updated_at the freshest status seen.
ALTER TABLE flights
    ADD COLUMN status_source VARCHAR(20) NULL AFTER updated_at,
    ADD COLUMN status_updated_at DATETIME NULL AFTER status_source;
UPDATE flights SET status_source = source, status_updated_at = updated_at WHERE status_updated_at IS NULL;

-- Marketing flight numbers of a flight operated by another carrier: kept here, never as extra flights.
-- The operating flight is referenced by its natural key (a composite foreign key to flights' unique key).
CREATE TABLE IF NOT EXISTS flight_codeshares (
    codeshare_id BIGINT NOT NULL AUTO_INCREMENT,
    marketing_airline_code VARCHAR(3) NOT NULL,
    marketing_flight_number VARCHAR(5) NOT NULL,
    departure_date DATE NOT NULL,
    dep_airport CHAR(3) NOT NULL,
    airline_code VARCHAR(3) NOT NULL,
    flight_number VARCHAR(5) NOT NULL,
    source VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (codeshare_id),
    UNIQUE KEY uq_codeshares_natural (marketing_airline_code, marketing_flight_number, departure_date, dep_airport),
    KEY ix_codeshares_operating (airline_code, flight_number, departure_date, dep_airport),
    CONSTRAINT fk_codeshares_flight FOREIGN KEY (airline_code, flight_number, departure_date, dep_airport)
        REFERENCES flights (airline_code, flight_number, departure_date, dep_airport)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What a position was observed on: the flight's identity as the source reported it (flight_id is resolved
-- from it when the flight is known), plus the aircraft.
ALTER TABLE flight_positions
    ADD COLUMN airline_code VARCHAR(3) NULL AFTER flight_id,
    ADD COLUMN flight_number VARCHAR(5) NULL AFTER airline_code,
    ADD COLUMN dep_airport CHAR(3) NULL AFTER flight_number,
    ADD COLUMN arr_airport CHAR(3) NULL AFTER dep_airport,
    ADD COLUMN registration VARCHAR(10) NULL AFTER arr_airport,
    ADD COLUMN aircraft_code VARCHAR(4) NULL AFTER registration,
    ADD KEY ix_positions_observed (observed_at),
    ADD KEY ix_positions_flight_identity (airline_code, flight_number, dep_airport);

-- API request budgets, shared by every run and task: calls made per source and calendar day / month (UTC).
CREATE TABLE IF NOT EXISTS api_quota_usage (
    source VARCHAR(20) NOT NULL,
    period_kind VARCHAR(5) NOT NULL,
    period_start DATE NOT NULL,
    calls INT NOT NULL,
    updated_at DATETIME(3) NOT NULL,
    PRIMARY KEY (source, period_kind, period_start),
    CONSTRAINT ck_quota_period_kind CHECK (period_kind IN ('day', 'month'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
