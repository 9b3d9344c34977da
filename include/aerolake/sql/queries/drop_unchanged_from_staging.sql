-- Drop staged rows identical to the stored row of the same key (NULL-safe on every load column): publishing
-- them would change nothing. {staging}, {table}, {key_match} and {same} come from the schema contract.
DELETE s FROM {staging} s JOIN {table} t ON {key_match}
WHERE {same}
