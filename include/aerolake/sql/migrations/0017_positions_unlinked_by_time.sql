-- ix_positions_flight becomes (flight_id, observed_at): the link reads the unlinked positions of its window as one
-- range, (NULL, since) to (NULL, until), instead of every unlinked position of the partitions the window touches.
-- A plain secondary index on an unpartitioned table carries the primary key's columns for that purpose (MariaDB's
-- extended keys, MySQL's index extensions), but a partitioned table's does not: the link's plan was "ref" on
-- flight_id IS NULL, up to a month of unlinked positions (3% of 43 million) read and their rows looked up, for a
-- window of minutes (a snapshot) or a day (a day of flights). Written out, the column costs nothing more: InnoDB
-- stores a primary key column named in a secondary index once. A flight's positions (the streaming records) now
-- come in time order from the same index.
--
-- On a large table this rebuilds one index (in place; reads and writes go on meanwhile, but every pipeline task
-- waits at the migration lock): at 130 million positions, minutes. Run `aerolake migrate` before deploying the
-- DAGs that need it.
ALTER TABLE flight_positions
    DROP INDEX ix_positions_flight,
    ADD KEY ix_positions_flight (flight_id, observed_at);
