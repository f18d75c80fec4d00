-- +goose Up
-- create "logging" table
CREATE TABLE "logging" ("id" uuid NOT NULL, "username" character varying NOT NULL, "api" character varying NOT NULL, "data_size" bigint NOT NULL DEFAULT 0, "endpoint" character varying NOT NULL, "parameters" text NOT NULL, "user_agent" character varying NOT NULL, "ip_address" character varying NOT NULL, "query_date" timestamptz NOT NULL, "status" character varying NOT NULL DEFAULT 'ok', "cached" boolean NOT NULL DEFAULT false, "latency_ms" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- create index "usagelog_api_query_date" to table: "logging"
CREATE INDEX "usagelog_api_query_date" ON "logging" ("api", "query_date");
-- create index "usagelog_query_date" to table: "logging"
CREATE INDEX "usagelog_query_date" ON "logging" ("query_date");
-- create index "usagelog_username_query_date" to table: "logging"
CREATE INDEX "usagelog_username_query_date" ON "logging" ("username", "query_date");
-- create "auth" table
CREATE TABLE "auth" ("id" uuid NOT NULL, "username" character varying NOT NULL, "password" character varying NOT NULL, "account_active" boolean NOT NULL DEFAULT false, "account_admin" boolean NOT NULL DEFAULT false, "created_date" timestamptz NOT NULL, "password_changed_at" timestamptz NOT NULL, "last_login_at" timestamptz NULL, "last_login_ip" character varying NULL, "last_login_user_agent" character varying NULL, PRIMARY KEY ("id"));
-- create index "auth_username_key" to table: "auth"
CREATE UNIQUE INDEX "auth_username_key" ON "auth" ("username");
-- create index "user_created_date" to table: "auth"
CREATE INDEX "user_created_date" ON "auth" ("created_date");

-- +goose Down
-- reverse: create index "user_created_date" to table: "auth"
DROP INDEX "user_created_date";
-- reverse: create index "auth_username_key" to table: "auth"
DROP INDEX "auth_username_key";
-- reverse: create "auth" table
DROP TABLE "auth";
-- reverse: create index "usagelog_username_query_date" to table: "logging"
DROP INDEX "usagelog_username_query_date";
-- reverse: create index "usagelog_query_date" to table: "logging"
DROP INDEX "usagelog_query_date";
-- reverse: create index "usagelog_api_query_date" to table: "logging"
DROP INDEX "usagelog_api_query_date";
-- reverse: create "logging" table
DROP TABLE "logging";
