-- Operational tables: what each run did, and what the quality checks found.
CREATE TABLE IF NOT EXISTS pipeline_runs (
    dag_id VARCHAR(100) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    endpoint VARCHAR(64) NOT NULL,
    source VARCHAR(20) NOT NULL,
    partition_key VARCHAR(40) NOT NULL,
    fetched INT NULL,
    api_calls INT NULL,
    staged INT NULL,
    quarantined_at_staging INT NULL,
    duplicates_at_staging INT NULL,
    cleaned INT NULL,
    quarantined_at_cleaning INT NULL,
    duplicates_at_cleaning INT NULL,
    loaded INT NULL,
    quarantined INT AS (COALESCE(quarantined_at_staging, 0) + COALESCE(quarantined_at_cleaning, 0)) STORED,
    duplicates INT AS (COALESCE(duplicates_at_staging, 0) + COALESCE(duplicates_at_cleaning, 0)) STORED,
    started_at DATETIME(3) NOT NULL,
    finished_at DATETIME(3) NULL,
    status VARCHAR(20) NOT NULL,
    last_stage VARCHAR(32) NOT NULL,
    PRIMARY KEY (dag_id, run_id, endpoint),
    KEY ix_pipeline_runs_partition (source, partition_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS data_quality_results (
    result_id BIGINT NOT NULL AUTO_INCREMENT,
    dag_id VARCHAR(100) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    partition_key VARCHAR(40) NOT NULL,
    check_name VARCHAR(100) NOT NULL,
    table_name VARCHAR(64) NOT NULL,
    passed BOOLEAN NOT NULL,
    observed_value DOUBLE NULL,
    threshold DOUBLE NULL,
    details VARCHAR(1000) NULL,
    checked_at DATETIME(3) NOT NULL,
    PRIMARY KEY (result_id),
    UNIQUE KEY uq_quality_check (dag_id, run_id, check_name, table_name),
    KEY ix_quality_partition (partition_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
