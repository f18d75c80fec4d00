-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_logging" table
CREATE TABLE `new_logging` (`id` uuid NOT NULL, `username` text NOT NULL, `api` text NOT NULL, `data_size` integer NOT NULL DEFAULT (0), `endpoint` text NOT NULL, `parameters` text NOT NULL, `user_agent` text NOT NULL, `ip_address` text NOT NULL, `query_date` datetime NOT NULL, `status` text NOT NULL DEFAULT ('ok'), `cached` bool NOT NULL DEFAULT (false), `latency_ms` integer NOT NULL DEFAULT (0), `providers` text NOT NULL DEFAULT (''), `tlp` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- copy rows from old table "logging" to new temporary table "new_logging"
INSERT INTO `new_logging` (`id`, `username`, `api`, `data_size`, `endpoint`, `parameters`, `user_agent`, `ip_address`, `query_date`, `status`, `cached`, `latency_ms`, `providers`) SELECT `id`, `username`, `api`, `data_size`, `endpoint`, `parameters`, `user_agent`, `ip_address`, `query_date`, `status`, `cached`, `latency_ms`, `providers` FROM `logging`;
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
-- create "playbook" table
CREATE TABLE `playbook` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `members` text NOT NULL DEFAULT (''), `default_tlp` text NOT NULL DEFAULT (''), `min_coverage` integer NOT NULL DEFAULT (0), `builtin` bool NOT NULL DEFAULT (false), `deleted` bool NOT NULL DEFAULT (false), `owner` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL);
-- create index "playbook_name_key" to table: "playbook"
CREATE UNIQUE INDEX `playbook_name_key` ON `playbook` (`name`);
-- create "policy_entry" table
CREATE TABLE `policy_entry` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `list` text NOT NULL, `value` text NOT NULL, `type` text NOT NULL, `reason` text NOT NULL DEFAULT (''), `owner` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `expires_at` datetime NULL);
-- create index "policyentry_list_value" to table: "policy_entry"
CREATE UNIQUE INDEX `policyentry_list_value` ON `policy_entry` (`list`, `value`);
-- create "policy_list" table
CREATE TABLE `policy_list` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `name` text NOT NULL, `effect` text NOT NULL, `description` text NOT NULL DEFAULT (''), `owner` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL);
-- create index "policy_list_name_key" to table: "policy_list"
CREATE UNIQUE INDEX `policy_list_name_key` ON `policy_list` (`name`);
-- create "sighting" table
CREATE TABLE `sighting` (`id` uuid NOT NULL, `audit_id` uuid NULL, `value_hash` text NOT NULL, `kind` text NOT NULL, `value` text NOT NULL, `username` text NOT NULL, `at` datetime NOT NULL, `verdict` text NOT NULL DEFAULT (''), `source` text NOT NULL DEFAULT (''), `tlp` text NOT NULL DEFAULT (''), `note` text NOT NULL DEFAULT (''), `manual_verdict` text NOT NULL DEFAULT (''), `manual_by` text NOT NULL DEFAULT (''), `manual_at` datetime NULL, PRIMARY KEY (`id`));
-- create index "sighting_value_hash_kind_at" to table: "sighting"
CREATE INDEX `sighting_value_hash_kind_at` ON `sighting` (`value_hash`, `kind`, `at`);
-- create index "sighting_value_hash_kind_username_at" to table: "sighting"
CREATE INDEX `sighting_value_hash_kind_username_at` ON `sighting` (`value_hash`, `kind`, `username`, `at`);
-- create index "sighting_at" to table: "sighting"
CREATE INDEX `sighting_at` ON `sighting` (`at`);
-- create "sighting_summary" table
CREATE TABLE `sighting_summary` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `value_hash` text NOT NULL, `kind` text NOT NULL, `count` integer NOT NULL DEFAULT (0), `users` integer NOT NULL DEFAULT (0), `first_seen` datetime NOT NULL, `last_seen` datetime NOT NULL, `last_verdict` text NOT NULL DEFAULT (''), `last_user` text NOT NULL DEFAULT (''), `manual_verdict` text NOT NULL DEFAULT (''), `manual_by` text NOT NULL DEFAULT (''), `manual_at` datetime NULL, `manual_note` text NOT NULL DEFAULT (''), `manual_sighting` text NOT NULL DEFAULT (''));
-- create index "sightingsummary_value_hash_kind" to table: "sighting_summary"
CREATE UNIQUE INDEX `sightingsummary_value_hash_kind` ON `sighting_summary` (`value_hash`, `kind`);
-- create "sighting_user" table
CREATE TABLE `sighting_user` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `value_hash` text NOT NULL, `kind` text NOT NULL, `username` text NOT NULL, `count` integer NOT NULL DEFAULT (0), `last_seen` datetime NOT NULL);
-- create index "sightinguser_value_hash_kind_username" to table: "sighting_user"
CREATE UNIQUE INDEX `sightinguser_value_hash_kind_username` ON `sighting_user` (`value_hash`, `kind`, `username`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "sightinguser_value_hash_kind_username" to table: "sighting_user"
DROP INDEX `sightinguser_value_hash_kind_username`;
-- reverse: create "sighting_user" table
DROP TABLE `sighting_user`;
-- reverse: create index "sightingsummary_value_hash_kind" to table: "sighting_summary"
DROP INDEX `sightingsummary_value_hash_kind`;
-- reverse: create "sighting_summary" table
DROP TABLE `sighting_summary`;
-- reverse: create index "sighting_at" to table: "sighting"
DROP INDEX `sighting_at`;
-- reverse: create index "sighting_value_hash_kind_username_at" to table: "sighting"
DROP INDEX `sighting_value_hash_kind_username_at`;
-- reverse: create index "sighting_value_hash_kind_at" to table: "sighting"
DROP INDEX `sighting_value_hash_kind_at`;
-- reverse: create "sighting" table
DROP TABLE `sighting`;
-- reverse: create index "policy_list_name_key" to table: "policy_list"
DROP INDEX `policy_list_name_key`;
-- reverse: create "policy_list" table
DROP TABLE `policy_list`;
-- reverse: create index "policyentry_list_value" to table: "policy_entry"
DROP INDEX `policyentry_list_value`;
-- reverse: create "policy_entry" table
DROP TABLE `policy_entry`;
-- reverse: create index "playbook_name_key" to table: "playbook"
DROP INDEX `playbook_name_key`;
-- reverse: create "playbook" table
DROP TABLE `playbook`;
-- reverse: create index "usagelog_api_query_date" to table: "logging"
DROP INDEX `usagelog_api_query_date`;
-- reverse: create index "usagelog_username_query_date" to table: "logging"
DROP INDEX `usagelog_username_query_date`;
-- reverse: create index "usagelog_query_date" to table: "logging"
DROP INDEX `usagelog_query_date`;
-- reverse: create "new_logging" table
DROP TABLE `new_logging`;
