package main

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
)

// policyRun says how the policy benchmark runs: list entries loaded into
// the measured gadget, and the baseline gadget measured in the same
// rounds: built with baselineTags, or the binary baselineBin (another
// commit's build).
type policyRun struct {
	lists        int
	baselineTags string
	baselineBin  string
}

// side is a second gadget serve measured beside the first.
type side struct {
	cmd       *exec.Cmd
	base, tok string
}

// startBaseline builds gadget with tags (or runs bin when given), starts
// it on its own database with the same environment, and warms its cache
// with the measured request.
func startBaseline(client *http.Client, dir, tags, bin string, env []string, password string, w workload) (*side, error) {
	bin, err := gadgetBinary(dir, "gadget-baseline", tags, bin)
	if err != nil {
		return nil, err
	}
	env = append(env[:len(env):len(env)], "GADGET_DATABASE_URL=sqlite://"+filepath.Join(dir, "baseline.db"))
	cmd, base, err := startChild(exec.Command(bin, "serve"), env, "listening on ")
	if err != nil {
		return nil, err
	}
	s := &side{cmd: cmd, base: base}
	if s.tok, err = token(client, base, password); err == nil {
		_, _, err = warm(client, "http://"+base+"/graphql", s.tok, w)
	}
	if err != nil {
		stop(cmd)
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return s, nil
}

// listEntry is the i-th generated entry: a /24 outside the measured
// value's range, a domain suffix or an MD5, in turn.
func listEntry(i int) string {
	switch (i / 3) % 3 {
	case 0:
		return fmt.Sprintf("%d.%d.%d.0/24", 11+(i/65536)%80, (i/256)%256, i%256)
	case 1:
		return fmt.Sprintf("h%d.bench-%d.example", i, i%97)
	}
	sum := md5.Sum([]byte(fmt.Sprint(i)))
	return hex.EncodeToString(sum[:])
}

// loadLists creates a BLOCK, a NEVER_SEND and a KNOWN_GOOD list and adds
// n entries across them through GraphQL, 5,000 a request (the server caps
// bodies at 1 MiB).
func loadLists(client *http.Client, url, tok string, n int) error {
	if n <= 0 {
		return nil
	}
	names := []string{"bench-block", "bench-never", "bench-good"}
	for i, effect := range []string{"BLOCK", "NEVER_SEND", "KNOWN_GOOD"} {
		q, _ := json.Marshal(map[string]string{"query": fmt.Sprintf(`mutation { createList(name: %q, effect: %s) { name } }`, names[i], effect)})
		if out, err := post(client, url, tok, q); err != nil || strings.Contains(string(out), `"errors"`) {
			return fmt.Errorf("create list %s: %s %v", names[i], out, err)
		}
	}
	const chunk = 5000
	for start := 0; start < n; start += chunk * 3 {
		for l := range names {
			var entries []map[string]string
			for i := start + l; i < min(n, start+chunk*3); i += 3 {
				entries = append(entries, map[string]string{"value": listEntry(i), "reason": "bench"})
			}
			if len(entries) == 0 {
				continue
			}
			q, _ := json.Marshal(map[string]any{"query": `mutation($l: String!, $e: [ListEntryInput!]!) { addListEntries(list: $l, entries: $e) { size } }`,
				"variables": map[string]any{"l": names[l], "e": entries}})
			if out, err := post(client, url, tok, q); err != nil || strings.Contains(string(out), `"errors"`) {
				return fmt.Errorf("add entries to %s: %.300s %v", names[l], out, err)
			}
		}
	}
	return nil
}

// printBaseline prints the medians of the measured gadget and the
// baseline, and the median of their per-round ratios.
func printBaseline(gs, ls []result) {
	ratios := make([]float64, len(gs))
	for i := range gs {
		ratios[i] = 100 * gs[i].rate / ls[i].rate
	}
	fmt.Printf("median: gadget %.0f req/s (p50 %.2f ms, p99 %.2f ms), baseline %.0f req/s (p50 %.2f ms, p99 %.2f ms): gadget at %.0f %% of the baseline (rounds %s)\n",
		median(gs, func(r result) float64 { return r.rate }), median(gs, func(r result) float64 { return ms(r.p50) }),
		median(gs, func(r result) float64 { return ms(r.p99) }), median(ls, func(r result) float64 { return r.rate }),
		median(ls, func(r result) float64 { return ms(r.p50) }), median(ls, func(r result) float64 { return ms(r.p99) }),
		medianOf(ratios), roundRatios(ratios))
}

func roundRatios(xs []float64) string {
	var out []string
	for _, x := range xs {
		out = append(out, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(out, " ")
}
