-- +goose Up
-- create "logging" table
CREATE TABLE `logging` (`id` uuid NOT NULL, `username` text NOT NULL, `api` text NOT NULL, `data_size` integer NOT NULL DEFAULT (0), `endpoint` text NOT NULL, `parameters` text NOT NULL, `user_agent` text NOT NULL, `ip_address` text NOT NULL, `query_date` datetime NOT NULL, `status` text NOT NULL DEFAULT ('ok'), `cached` bool NOT NULL DEFAULT (false), `latency_ms` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- create index "usagelog_query_date" to table: "logging"
CREATE INDEX `usagelog_query_date` ON `logging` (`query_date`);
-- create index "usagelog_username_query_date" to table: "logging"
CREATE INDEX `usagelog_username_query_date` ON `logging` (`username`, `query_date`);
-- create index "usagelog_api_query_date" to table: "logging"
CREATE INDEX `usagelog_api_query_date` ON `logging` (`api`, `query_date`);
-- create "auth" table
CREATE TABLE `auth` (`id` uuid NOT NULL, `username` text NOT NULL, `password` text NOT NULL, `account_active` bool NOT NULL DEFAULT (false), `account_admin` bool NOT NULL DEFAULT (false), `created_date` datetime NOT NULL, `password_changed_at` datetime NOT NULL, `last_login_at` datetime NULL, `last_login_ip` text NULL, `last_login_user_agent` text NULL, PRIMARY KEY (`id`));
-- create index "auth_username_key" to table: "auth"
CREATE UNIQUE INDEX `auth_username_key` ON `auth` (`username`);
-- create index "user_created_date" to table: "auth"
CREATE INDEX `user_created_date` ON `auth` (`created_date`);

-- +goose Down
-- reverse: create index "user_created_date" to table: "auth"
DROP INDEX `user_created_date`;
-- reverse: create index "auth_username_key" to table: "auth"
DROP INDEX `auth_username_key`;
-- reverse: create "auth" table
DROP TABLE `auth`;
-- reverse: create index "usagelog_api_query_date" to table: "logging"
DROP INDEX `usagelog_api_query_date`;
-- reverse: create index "usagelog_username_query_date" to table: "logging"
DROP INDEX `usagelog_username_query_date`;
-- reverse: create index "usagelog_query_date" to table: "logging"
DROP INDEX `usagelog_query_date`;
-- reverse: create "logging" table
DROP TABLE `logging`;
