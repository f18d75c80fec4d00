-- +goose Up
-- drop index "sighting_at" from table: "sighting"
DROP INDEX "sighting_at";

-- +goose Down
-- reverse: drop index "sighting_at" from table: "sighting"
CREATE INDEX "sighting_at" ON "sighting" ("at");
