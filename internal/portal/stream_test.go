package portal_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// gated is a provider that answers MALICIOUS once its gate opens (at once
// when the gate is nil).
type gated struct {
	name string
	gate chan struct{}
}

func (g *gated) Descriptor() provider.Descriptor {
	return provider.Descriptor{Name: g.name, Kinds: []indicator.Kind{indicator.IPv4}, Timeout: 10 * time.Second}
}

func (g *gated) Configured() bool { return true }

func (g *gated) Lookup(ctx context.Context, ind indicator.Indicator) (*provider.Result, error) {
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &provider.Result{Provider: g.name, Raw: json.RawMessage(`{"hit":true}`), Bytes: 12, StatusCode: 200,
		Verdict: provider.Assessment{Level: indicator.Malicious, Score: 90, Reason: g.name + ": says bad"}}, nil
}

// TestLookupStreamsEachAnswer checks that a provider's answer reaches the
// browser while another provider is still working.
func TestLookupStreamsEachAnswer(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	e := newEnv(t, &gated{name: "quick"}, &gated{name: "slow", gate: gate})
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()
	b := e.browser()
	csrf := b.signIn("alice", alicePW)
	req, _ := http.NewRequest("POST", e.srv.URL+"/portal/lookup", strings.NewReader(url.Values{"values": {"8.8.8.8"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", csrf)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	var seen []string // the sightings lines, which come at their own pace
	next := func() map[string]any {
		t.Helper()
		for {
			if !lines.Scan() {
				t.Fatalf("stream ended early: %v", lines.Err())
			}
			var ev map[string]any
			if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
				t.Fatal(err)
			}
			if ev["type"] != "seen" {
				return ev
			}
			seen = append(seen, ev["sightings"].(string))
		}
	}
	if ev := next(); ev["type"] != "plan" {
		t.Fatalf("first event %v", ev)
	}
	first := next() // arrives while "slow" is still blocked
	r := first["result"].(map[string]any)
	v := first["verdict"].(map[string]any)
	if r["provider"] != "quick" || r["status"] != "OK" || v["level"] != "MALICIOUS" || r["level"] != "MALICIOUS" || r["reason"] != "says bad" ||
		v["coverage"] != "1 of 2 answered; 1 pending" || v["complete"] != false {
		t.Fatalf("first result %v", first)
	}
	close(gate)
	second := next()
	if second["result"].(map[string]any)["provider"] != "slow" || len(second["verdict"].(map[string]any)["reasons"].([]any)) != 2 {
		t.Fatalf("second result %v", second)
	}
	if v := second["verdict"].(map[string]any); v["coverage"] != "2 of 2 answered" || v["complete"] != true {
		t.Fatalf("second verdict %v", v)
	}
	if ev := next(); ev["type"] != "done" {
		t.Fatalf("last event %v", ev)
	}
	if len(seen) != 1 || seen[0] != "never seen before" {
		t.Errorf("sightings lines = %q", seen)
	}
}
