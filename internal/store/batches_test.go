package store

import (
	"math/bits"
	"slices"
	"testing"
)

func TestBatches(t *testing.T) {
	shapes := map[int]bool{}
	for n := range 3000 {
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		var joined []int
		for part := range batches(rows) {
			if len(part) < 1 || len(part) > chunk || bits.OnesCount(uint(len(part))) != 1 {
				t.Fatalf("batches of %d rows: a run of %d, want a power of two ≤ %d", n, len(part), chunk)
			}
			shapes[len(part)] = true
			joined = append(joined, part...)
		}
		if !slices.Equal(joined, rows) {
			t.Fatalf("batches of %d rows: the runs joined are %d rows, not the rows in order", n, len(joined))
		}
	}
	if len(shapes) != 10 { // 1, 2, 4, …, 512
		t.Errorf("%d statement shapes, want 10", len(shapes))
	}
}
