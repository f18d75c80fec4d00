package jobs

import "sync"

// group hands what is queued to do, batch after batch, in one goroutine
// started on demand: what arrives while do runs goes in the next batch.
// do returns the items it put off, which lead the next batch.
type group[T any] struct {
	do func(batch []T) (later []T)

	mu      sync.Mutex
	queue   []T
	running bool
	idle    sync.WaitGroup // a drain is running
}

// add queues x and starts a drain when none runs.
func (g *group[T]) add(x T) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, x)
	if !g.running {
		g.running = true
		g.idle.Add(1)
		go g.drain()
	}
}

func (g *group[T]) drain() {
	defer g.idle.Done()
	var later []T
	for {
		g.mu.Lock()
		batch := append(later, g.queue...)
		g.queue = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		later = g.do(batch)
	}
}

// wait returns once everything queued has been handed to do.
func (g *group[T]) wait() { g.idle.Wait() }
