-- +goose Up
-- create "api_keys" table
CREATE TABLE `api_keys` (`id` uuid NOT NULL, `username` text NOT NULL, `name` text NOT NULL, `hash` text NOT NULL, `prefix` text NOT NULL, `scopes` text NOT NULL, `created_at` datetime NOT NULL, `last_used_at` datetime NULL, `revoked_at` datetime NULL, PRIMARY KEY (`id`));
-- create index "api_keys_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_hash_key` ON `api_keys` (`hash`);
-- create index "apikey_username_created_at" to table: "api_keys"
CREATE INDEX `apikey_username_created_at` ON `api_keys` (`username`, `created_at`);
-- create "stix_objects" table
CREATE TABLE `stix_objects` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `collection` text NOT NULL, `object_id` text NOT NULL, `object_type` text NOT NULL, `version` datetime NOT NULL, `date_added` datetime NOT NULL, `revoked` bool NOT NULL DEFAULT (false), `level` text NOT NULL DEFAULT (''), `score` integer NOT NULL DEFAULT (0), `object` text NOT NULL);
-- create index "stixobject_collection_date_added_id" to table: "stix_objects"
CREATE INDEX `stixobject_collection_date_added_id` ON `stix_objects` (`collection`, `date_added`, `id`);
-- create index "stixobject_collection_object_id_id" to table: "stix_objects"
CREATE INDEX `stixobject_collection_object_id_id` ON `stix_objects` (`collection`, `object_id`, `id`);

-- +goose Down
-- reverse: create index "stixobject_collection_object_id_id" to table: "stix_objects"
DROP INDEX `stixobject_collection_object_id_id`;
-- reverse: create index "stixobject_collection_date_added_id" to table: "stix_objects"
DROP INDEX `stixobject_collection_date_added_id`;
-- reverse: create "stix_objects" table
DROP TABLE `stix_objects`;
-- reverse: create index "apikey_username_created_at" to table: "api_keys"
DROP INDEX `apikey_username_created_at`;
-- reverse: create index "api_keys_hash_key" to table: "api_keys"
DROP INDEX `api_keys_hash_key`;
-- reverse: create "api_keys" table
DROP TABLE `api_keys`;
