package store

import (
	"math/bits"
	"testing"
)

func TestBatches(t *testing.T) {
	shapes := map[int]bool{}
	for n := range 3000 {
		next := 0
		for start, end := range batches(n) {
			size := end - start
			if start != next || size < 1 || size > chunk || bits.OnesCount(uint(size)) != 1 {
				t.Fatalf("batches(%d): [%d, %d) after %d: want a power of two ≤ %d starting where the last ended", n, start, end, next, chunk)
			}
			shapes[size] = true
			next = end
		}
		if next != n {
			t.Fatalf("batches(%d) covers %d rows", n, next)
		}
	}
	if len(shapes) != 10 { // 1, 2, 4, …, 512
		t.Errorf("%d statement shapes, want 10", len(shapes))
	}
}
