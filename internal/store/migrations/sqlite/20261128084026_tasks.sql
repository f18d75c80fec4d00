-- +goose Up
-- create "tasks" table
CREATE TABLE `tasks` (`id` uuid NOT NULL, `username` text NOT NULL, `kind` text NOT NULL, `value` text NOT NULL, `providers` text NOT NULL DEFAULT (''), `status` text NOT NULL DEFAULT ('PENDING'), `result` text NULL, `error` text NULL, `created_at` datetime NOT NULL, `deadline` datetime NOT NULL, `expires_at` datetime NOT NULL, `finished_at` datetime NULL, PRIMARY KEY (`id`));
-- create index "task_expires_at" to table: "tasks"
CREATE INDEX `task_expires_at` ON `tasks` (`expires_at`);
-- create index "task_username_created_at" to table: "tasks"
CREATE INDEX `task_username_created_at` ON `tasks` (`username`, `created_at`);

-- +goose Down
-- reverse: create index "task_username_created_at" to table: "tasks"
DROP INDEX `task_username_created_at`;
-- reverse: create index "task_expires_at" to table: "tasks"
DROP INDEX `task_expires_at`;
-- reverse: create "tasks" table
DROP TABLE `tasks`;
