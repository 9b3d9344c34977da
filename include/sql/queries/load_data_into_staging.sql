-- Bulk load a tab-separated file into a staging table; \N is NULL.
LOAD DATA LOCAL INFILE %s INTO TABLE {staging} CHARACTER SET utf8mb4
FIELDS TERMINATED BY '\t' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\'
LINES TERMINATED BY '\n'
({columns})
