package jobs_test

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/jobs"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/store"
)

// A process that works the virustotal queue and looks up through it: the
// runtime's Executor is what enrich.Config.Executor gets in main.
func Example() {
	ctx := context.Background()
	var (
		pool    *pgxpool.Pool   // store.QueuePool
		st      *store.Store    // its JobQueue is the workers' SQL
		fetcher *enrich.Fetcher // the process's one Fetcher
	)
	rt, err := jobs.New(ctx, jobs.Config{Pool: pool, Fetcher: fetcher, Store: st.JobQueue(pool), Queues: map[string]int{"virustotal": 4}})
	if err != nil {
		return
	}
	if err := rt.Start(ctx); err != nil {
		return
	}
	defer rt.Stop(ctx)
	ind, _ := indicator.Parse("198.51.100.7")
	r := rt.Executor.Execute(ctx, enrich.Call{Provider: "virustotal", Indicator: ind,
		Caller: lookup.Caller{Username: "analyst"}, Deadline: time.Now().Add(20 * time.Second)})
	_ = r.Status // OK, NOT_FOUND, …, or PENDING with r.JobID
}
