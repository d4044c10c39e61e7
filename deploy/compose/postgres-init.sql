-- One PostgreSQL server for the compose stack, one database per service (DESIGN.md section 8).
-- Runs once, when the postgres-data volume is new.
CREATE DATABASE billing;
CREATE DATABASE collections;
CREATE DATABASE cases;
CREATE DATABASE reporting;
