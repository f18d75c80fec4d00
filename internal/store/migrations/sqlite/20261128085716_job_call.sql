-- +goose Up
-- create "job_call" table
CREATE TABLE `job_call` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `job_id` integer NOT NULL, `started_at` datetime NOT NULL);
-- create index "jobcall_job_id" to table: "job_call"
CREATE INDEX `jobcall_job_id` ON `job_call` (`job_id`);

-- +goose Down
-- reverse: create index "jobcall_job_id" to table: "job_call"
DROP INDEX `jobcall_job_id`;
-- reverse: create "job_call" table
DROP TABLE `job_call`;
