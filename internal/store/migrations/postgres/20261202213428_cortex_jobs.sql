-- +goose Up
-- create "cortex_jobs" table
CREATE TABLE "cortex_jobs" ("id" uuid NOT NULL, "username" character varying NOT NULL, "analyzer_id" character varying NOT NULL, "analyzer_name" character varying NOT NULL, "data_type" character varying NOT NULL, "data" text NOT NULL, "tlp" bigint NOT NULL, "pap" bigint NOT NULL, "message" text NOT NULL DEFAULT '', "parameters" text NOT NULL DEFAULT '{}', "status" character varying NOT NULL DEFAULT 'Waiting', "report" text NULL, "error_message" character varying NULL, "created_at" timestamptz NOT NULL, "start_date" timestamptz NULL, "end_date" timestamptz NULL, "deadline" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "cortexjob_created_at" to table: "cortex_jobs"
CREATE INDEX "cortexjob_created_at" ON "cortex_jobs" ("created_at");
-- create index "cortexjob_username_created_at" to table: "cortex_jobs"
CREATE INDEX "cortexjob_username_created_at" ON "cortex_jobs" ("username", "created_at");

-- +goose Down
-- reverse: create index "cortexjob_username_created_at" to table: "cortex_jobs"
DROP INDEX "cortexjob_username_created_at";
-- reverse: create index "cortexjob_created_at" to table: "cortex_jobs"
DROP INDEX "cortexjob_created_at";
-- reverse: create "cortex_jobs" table
DROP TABLE "cortex_jobs";
