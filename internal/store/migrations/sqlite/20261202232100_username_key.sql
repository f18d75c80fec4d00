-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_auth" table
CREATE TABLE `new_auth` (`id` uuid NOT NULL, `username` text NOT NULL, `username_key` text NOT NULL, `password` text NOT NULL, `account_active` bool NOT NULL DEFAULT (false), `account_admin` bool NOT NULL DEFAULT (false), `created_date` datetime NOT NULL, `password_changed_at` datetime NOT NULL, `last_login_at` datetime NULL, `last_login_ip` text NULL, `last_login_user_agent` text NULL, PRIMARY KEY (`id`));
-- copy rows from old table "auth" to new temporary table "new_auth"
-- usernames become case-insensitive (issue 16): the key is the username in lower case; an account
-- whose name differs from an older one's only in case keeps signing in under its exact name, its key
-- marked "#<id>", and every start reports it (Store.UsernameCollisions)
INSERT INTO `new_auth` (`id`, `username`, `username_key`, `password`, `account_active`, `account_admin`, `created_date`, `password_changed_at`, `last_login_at`, `last_login_ip`, `last_login_user_agent`) SELECT `id`, `username`, lower(`username`) || CASE WHEN EXISTS (SELECT 1 FROM `auth` AS o WHERE lower(o.`username`) = lower(a.`username`) AND (o.`created_date` < a.`created_date` OR (o.`created_date` = a.`created_date` AND o.`id` < a.`id`))) THEN '#' || lower(hex(a.`id`)) ELSE '' END, `password`, `account_active`, `account_admin`, `created_date`, `password_changed_at`, `last_login_at`, `last_login_ip`, `last_login_user_agent` FROM `auth` AS a;
-- drop "auth" table after copying rows
DROP TABLE `auth`;
-- rename temporary table "new_auth" to "auth"
ALTER TABLE `new_auth` RENAME TO `auth`;
-- create index "auth_username_key" to table: "auth"
CREATE UNIQUE INDEX `auth_username_key` ON `auth` (`username`);
-- create index "auth_username_key_key" to table: "auth"
CREATE UNIQUE INDEX `auth_username_key_key` ON `auth` (`username_key`);
-- create index "user_created_date" to table: "auth"
CREATE INDEX `user_created_date` ON `auth` (`created_date`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "user_created_date" to table: "auth"
DROP INDEX `user_created_date`;
-- reverse: create index "auth_username_key_key" to table: "auth"
DROP INDEX `auth_username_key_key`;
-- reverse: create index "auth_username_key" to table: "auth"
DROP INDEX `auth_username_key`;
-- reverse: create "new_auth" table
DROP TABLE `new_auth`;
