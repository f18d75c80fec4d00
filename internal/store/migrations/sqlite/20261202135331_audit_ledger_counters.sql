-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_logging" table
CREATE TABLE `new_logging` (`id` uuid NOT NULL, `username` text NOT NULL, `api` text NOT NULL, `data_size` integer NOT NULL DEFAULT (0), `endpoint` text NOT NULL, `parameters` text NOT NULL, `user_agent` text NOT NULL, `ip_address` text NOT NULL, `query_date` datetime NOT NULL, `status` text NOT NULL DEFAULT ('ok'), `cached` bool NOT NULL DEFAULT (false), `latency_ms` integer NOT NULL DEFAULT (0), `providers` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- copy rows from old table "logging" to new temporary table "new_logging"
INSERT INTO `new_logging` (`id`, `username`, `api`, `data_size`, `endpoint`, `parameters`, `user_agent`, `ip_address`, `query_date`, `status`, `cached`, `latency_ms`) SELECT `id`, `username`, `api`, `data_size`, `endpoint`, `parameters`, `user_agent`, `ip_address`, `query_date`, `status`, `cached`, `latency_ms` FROM `logging`;
-- drop "logging" table after copying rows
DROP TABLE `logging`;
-- rename temporary table "new_logging" to "logging"
ALTER TABLE `new_logging` RENAME TO `logging`;
-- create index "usagelog_query_date" to table: "logging"
CREATE INDEX `usagelog_query_date` ON `logging` (`query_date`);
-- create index "usagelog_username_query_date" to table: "logging"
CREATE INDEX `usagelog_username_query_date` ON `logging` (`username`, `query_date`);
-- create index "usagelog_api_query_date" to table: "logging"
CREATE INDEX `usagelog_api_query_date` ON `logging` (`api`, `query_date`);
-- create "upstream_call" table
CREATE TABLE `upstream_call` (`id` uuid NOT NULL, `at` datetime NOT NULL, `username` text NOT NULL, `provider` text NOT NULL, `endpoint` text NOT NULL, `parameters` text NOT NULL, `status` text NOT NULL, `bytes` integer NOT NULL DEFAULT (0), `latency_ms` integer NOT NULL DEFAULT (0), `job_id` integer NULL, PRIMARY KEY (`id`));
-- create index "upstreamcall_at" to table: "upstream_call"
CREATE INDEX `upstreamcall_at` ON `upstream_call` (`at`);
-- create index "upstreamcall_username_at" to table: "upstream_call"
CREATE INDEX `upstreamcall_username_at` ON `upstream_call` (`username`, `at`);
-- create index "upstreamcall_provider_at" to table: "upstream_call"
CREATE INDEX `upstreamcall_provider_at` ON `upstream_call` (`provider`, `at`);
-- create "usage_counter" table
CREATE TABLE `usage_counter` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `username` text NOT NULL, `api` text NOT NULL, `day` text NOT NULL, `answers` integer NOT NULL DEFAULT (0), `cached` integer NOT NULL DEFAULT (0), `calls` integer NOT NULL DEFAULT (0), `bytes` integer NOT NULL DEFAULT (0), `errors` integer NOT NULL DEFAULT (0), `rate_limited` integer NOT NULL DEFAULT (0), `latency_ms` integer NOT NULL DEFAULT (0));
-- create index "usagecounter_username_api_day" to table: "usage_counter"
CREATE UNIQUE INDEX `usagecounter_username_api_day` ON `usage_counter` (`username`, `api`, `day`);
-- create index "usagecounter_day" to table: "usage_counter"
CREATE INDEX `usagecounter_day` ON `usage_counter` (`day`);
-- hand-written: the counters of the rows written before them (one row per
-- provider result or operation), so reports over past days stay the same
INSERT INTO `usage_counter` (`username`, `api`, `day`, `answers`, `cached`, `calls`, `bytes`, `errors`, `rate_limited`, `latency_ms`)
SELECT `username`, `api`, substr(`query_date`, 1, 10), count(*), sum(`cached`),
  sum(NOT `cached` AND `status` IN ('ok', 'not_found', 'error', 'timeout')), coalesce(sum(`data_size`), 0),
  sum(`status` IN ('error', 'timeout')), sum(`status` = 'rate_limited'),
  coalesce(sum(CASE WHEN NOT `cached` AND `status` IN ('ok', 'not_found', 'error', 'timeout') THEN `latency_ms` END), 0)
FROM `logging` GROUP BY 1, 2, 3;
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "usagecounter_day" to table: "usage_counter"
DROP INDEX `usagecounter_day`;
-- reverse: create index "usagecounter_username_api_day" to table: "usage_counter"
DROP INDEX `usagecounter_username_api_day`;
-- reverse: create "usage_counter" table
DROP TABLE `usage_counter`;
-- reverse: create index "upstreamcall_provider_at" to table: "upstream_call"
DROP INDEX `upstreamcall_provider_at`;
-- reverse: create index "upstreamcall_username_at" to table: "upstream_call"
DROP INDEX `upstreamcall_username_at`;
-- reverse: create index "upstreamcall_at" to table: "upstream_call"
DROP INDEX `upstreamcall_at`;
-- reverse: create "upstream_call" table
DROP TABLE `upstream_call`;
-- reverse: create index "usagelog_api_query_date" to table: "logging"
DROP INDEX `usagelog_api_query_date`;
-- reverse: create index "usagelog_username_query_date" to table: "logging"
DROP INDEX `usagelog_username_query_date`;
-- reverse: create index "usagelog_query_date" to table: "logging"
DROP INDEX `usagelog_query_date`;
-- reverse: create "new_logging" table
DROP TABLE `new_logging`;
