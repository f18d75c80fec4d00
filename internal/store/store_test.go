package store_test

import (
	"testing"

	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.SQLiteURL)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t testing.TB) string { return testenv.Postgres(t) })
}
