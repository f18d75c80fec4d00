-- +goose Up
-- create "user_budgets" table
CREATE TABLE `user_budgets` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `username` text NOT NULL, `provider` text NOT NULL, `per_day` integer NOT NULL, `updated_at` datetime NOT NULL);
-- create index "userbudget_username_provider" to table: "user_budgets"
CREATE UNIQUE INDEX `userbudget_username_provider` ON `user_budgets` (`username`, `provider`);

-- +goose Down
-- reverse: create index "userbudget_username_provider" to table: "user_budgets"
DROP INDEX `userbudget_username_provider`;
-- reverse: create "user_budgets" table
DROP TABLE `user_budgets`;
