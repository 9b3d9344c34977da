"""One module per source: its client (auth, paging, retries, rate limit) and its normalizer."""
