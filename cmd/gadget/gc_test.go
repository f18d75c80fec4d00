package main

import "testing"

func TestShouldRelease(t *testing.T) {
	const mb = 1 << 20
	prev := heapSample{allocated: 1000 * mb}
	tests := []struct {
		name string
		cur  heapSample
		want bool
	}{
		{"idle, three times the live heap held", heapSample{allocated: 1001 * mb, live: 30 * mb, retained: 90 * mb}, true},
		{"busy: allocating", heapSample{allocated: 1100 * mb, live: 30 * mb, retained: 90 * mb}, false},
		{"idle, little to give back", heapSample{allocated: 1001 * mb, live: 30 * mb, retained: 40 * mb}, false},
		{"idle, a large live heap holds a quarter more", heapSample{allocated: 1001 * mb, live: 200 * mb, retained: 240 * mb}, false},
		{"idle, a large live heap holds half more", heapSample{allocated: 1001 * mb, live: 200 * mb, retained: 300 * mb}, true},
	}
	for _, tt := range tests {
		if got := shouldRelease(prev, tt.cur); got != tt.want {
			t.Errorf("%s: shouldRelease = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestReadHeap checks that the runtime names the metrics it reads.
func TestReadHeap(t *testing.T) {
	h := readHeap()
	if h.allocated == 0 || h.retained == 0 {
		t.Fatalf("readHeap = %+v: a metric name is unknown to this runtime", h)
	}
	if h.retained < h.live {
		t.Errorf("readHeap = %+v: retained below live", h)
	}
}
