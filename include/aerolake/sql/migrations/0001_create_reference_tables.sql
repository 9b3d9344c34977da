-- Reference data: countries, cities, airports, airlines, aircraft types.
-- Codes are the natural keys; unknown values are NULL, never placeholders.
CREATE TABLE IF NOT EXISTS countries (
    country_code CHAR(2) NOT NULL,
    name VARCHAR(100) NULL,
    source VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (country_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS cities (
    city_code CHAR(3) NOT NULL,
    country_code CHAR(2) NULL,
    name VARCHAR(100) NULL,
    latitude DOUBLE NULL,
    longitude DOUBLE NULL,
    timezone VARCHAR(64) NULL,
    source VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (city_code),
    CONSTRAINT fk_cities_country FOREIGN KEY (country_code) REFERENCES countries (country_code),
    CONSTRAINT ck_cities_latitude CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT ck_cities_longitude CHECK (longitude BETWEEN -180 AND 180)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS airports (
    airport_code CHAR(3) NOT NULL,
    icao_code CHAR(4) NULL,
    name VARCHAR(120) NULL,
    city_code CHAR(3) NULL,
    country_code CHAR(2) NULL,
    latitude DOUBLE NULL,
    longitude DOUBLE NULL,
    timezone VARCHAR(64) NULL,
    location_type VARCHAR(20) NULL,
    source VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (airport_code),
    KEY ix_airports_icao (icao_code),
    CONSTRAINT fk_airports_country FOREIGN KEY (country_code) REFERENCES countries (country_code),
    CONSTRAINT ck_airports_latitude CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT ck_airports_longitude CHECK (longitude BETWEEN -180 AND 180)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS airlines (
    airline_code VARCHAR(3) NOT NULL,
    icao_code CHAR(3) NULL,
    name VARCHAR(100) NULL,
    source VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (airline_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS aircraft_types (
    aircraft_code VARCHAR(4) NOT NULL,
    name VARCHAR(100) NULL,
    airline_equip_code VARCHAR(10) NULL,
    source VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (aircraft_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
