-- Quality checks have a severity: `error` checks gate the load (evaluated inside its transaction, a failure rolls
-- it back), `warn` checks are recorded and logged. A rate check over fewer items than its minimum sample is
-- judged at `warn` whatever its own severity; `sample` is how many items a rate was taken over (NULL: not a rate).
-- Rows written before this migration were all judged as errors.
ALTER TABLE data_quality_results
    ADD COLUMN severity VARCHAR(10) NOT NULL DEFAULT 'error',
    ADD COLUMN sample BIGINT NULL;

-- Terminals and gates were cut to 10 characters by the cleaners without a word ("Terminal 1", "B44-B48 Remote").
-- They now fit 32 characters; a longer value is implausible and quarantines its record with the rule's name.
ALTER TABLE flights
    MODIFY dep_terminal VARCHAR(32) NULL,
    MODIFY dep_gate VARCHAR(32) NULL,
    MODIFY arr_terminal VARCHAR(32) NULL,
    MODIFY arr_gate VARCHAR(32) NULL;
