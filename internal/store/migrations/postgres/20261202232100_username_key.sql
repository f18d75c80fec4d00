-- +goose Up
-- modify "auth" table: usernames become case-insensitive (issue 16). The key is the username in
-- lower case; an account whose name differs from an older one's only in case keeps signing in under
-- its exact name, its key marked "#<id>", and every start reports it (Store.UsernameCollisions).
ALTER TABLE "auth" ADD COLUMN "username_key" character varying NOT NULL DEFAULT '';
UPDATE "auth" AS u SET "username_key" = lower(u."username") || CASE WHEN EXISTS (SELECT 1 FROM "auth" AS o WHERE lower(o."username") = lower(u."username") AND (o."created_date" < u."created_date" OR (o."created_date" = u."created_date" AND o."id"::text < u."id"::text))) THEN '#' || u."id"::text ELSE '' END;
ALTER TABLE "auth" ALTER COLUMN "username_key" DROP DEFAULT;
-- create index "auth_username_key_key" to table: "auth"
CREATE UNIQUE INDEX "auth_username_key_key" ON "auth" ("username_key");

-- +goose Down
-- reverse: create index "auth_username_key_key" to table: "auth"
DROP INDEX "auth_username_key_key";
-- reverse: modify "auth" table
ALTER TABLE "auth" DROP COLUMN "username_key";
