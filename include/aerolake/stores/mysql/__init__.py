"""MySQL, the relational model: ``db`` (connections), ``migrate`` (versioned migrations), ``load`` (the bulk
partition load through staging tables), ``merge`` (how a load merges into stored rows), ``ledger`` (the
``pipeline_runs`` ledger), ``quotas`` (API request budgets) and ``quality`` (the checks). The SQL itself is in
``aerolake/sql/``."""
