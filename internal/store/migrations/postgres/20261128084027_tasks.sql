-- +goose Up
-- create "tasks" table
CREATE TABLE "tasks" ("id" uuid NOT NULL, "username" character varying NOT NULL, "kind" character varying NOT NULL, "value" text NOT NULL, "providers" character varying NOT NULL DEFAULT '', "status" character varying NOT NULL DEFAULT 'PENDING', "result" text NULL, "error" character varying NULL, "created_at" timestamptz NOT NULL, "deadline" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "finished_at" timestamptz NULL, PRIMARY KEY ("id"));
-- create index "task_expires_at" to table: "tasks"
CREATE INDEX "task_expires_at" ON "tasks" ("expires_at");
-- create index "task_username_created_at" to table: "tasks"
CREATE INDEX "task_username_created_at" ON "tasks" ("username", "created_at");

-- +goose Down
-- reverse: create index "task_username_created_at" to table: "tasks"
DROP INDEX "task_username_created_at";
-- reverse: create index "task_expires_at" to table: "tasks"
DROP INDEX "task_expires_at";
-- reverse: create "tasks" table
DROP TABLE "tasks";
