-- Bulk load a tab-separated file into a staging table. Every value is enclosed in double quotes (a quote
-- inside is doubled); an unenclosed empty field is NULL. No backslash escapes: text arrives as is.
-- {variables} are @v1..@vN, {assignments} set each column to NULLIF(@vK, ''): blank means unknown.
LOAD DATA LOCAL INFILE %s INTO TABLE {staging} CHARACTER SET utf8mb4
FIELDS TERMINATED BY '\t' OPTIONALLY ENCLOSED BY '"' ESCAPED BY ''
LINES TERMINATED BY '\n'
({variables})
SET {assignments}
