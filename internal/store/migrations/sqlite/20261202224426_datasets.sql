-- +goose Up
-- create "datasets" table
CREATE TABLE `datasets` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `provider` text NOT NULL, `name` text NOT NULL, `data` blob NULL, `entries` integer NOT NULL DEFAULT (0), `fetched_at` datetime NULL, `version` integer NOT NULL DEFAULT (0), `due_at` datetime NOT NULL, `last_error` text NOT NULL DEFAULT (''));
-- create index "dataset_provider_name" to table: "datasets"
CREATE UNIQUE INDEX `dataset_provider_name` ON `datasets` (`provider`, `name`);

-- +goose Down
-- reverse: create index "dataset_provider_name" to table: "datasets"
DROP INDEX `dataset_provider_name`;
-- reverse: create "datasets" table
DROP TABLE `datasets`;
