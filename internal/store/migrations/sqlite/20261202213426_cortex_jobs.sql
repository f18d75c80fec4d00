-- +goose Up
-- create "cortex_jobs" table
CREATE TABLE `cortex_jobs` (`id` uuid NOT NULL, `username` text NOT NULL, `analyzer_id` text NOT NULL, `analyzer_name` text NOT NULL, `data_type` text NOT NULL, `data` text NOT NULL, `tlp` integer NOT NULL, `pap` integer NOT NULL, `message` text NOT NULL DEFAULT (''), `parameters` text NOT NULL DEFAULT ('{}'), `status` text NOT NULL DEFAULT ('Waiting'), `report` text NULL, `error_message` text NULL, `created_at` datetime NOT NULL, `start_date` datetime NULL, `end_date` datetime NULL, `deadline` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "cortexjob_username_created_at" to table: "cortex_jobs"
CREATE INDEX `cortexjob_username_created_at` ON `cortex_jobs` (`username`, `created_at`);
-- create index "cortexjob_created_at" to table: "cortex_jobs"
CREATE INDEX `cortexjob_created_at` ON `cortex_jobs` (`created_at`);

-- +goose Down
-- reverse: create index "cortexjob_created_at" to table: "cortex_jobs"
DROP INDEX `cortexjob_created_at`;
-- reverse: create index "cortexjob_username_created_at" to table: "cortex_jobs"
DROP INDEX `cortexjob_username_created_at`;
-- reverse: create "cortex_jobs" table
DROP TABLE `cortex_jobs`;
