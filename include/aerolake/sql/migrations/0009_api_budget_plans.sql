-- What a budgeted source's scheduled runs need, as its last scheduled fetch saw it: the DAG's schedule (cron) and
-- the calls one run makes. The budget's pace (aerolake.stores.mysql.quotas) spreads the month's calls over the
-- schedule's runs; the report and the web API's /status read this to show each budget's pace and the next run
-- that will call.
CREATE TABLE IF NOT EXISTS api_budget_plans (
    source VARCHAR(20) NOT NULL,
    schedule VARCHAR(100) NOT NULL,
    calls_per_run INT NOT NULL,
    updated_at DATETIME(3) NOT NULL,
    PRIMARY KEY (source)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
