package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestLookupCommand(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	fake := withFake(t, env)
	getenv := func(k string) string { return env[k] }
	lookup := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"lookup"}, args...), getenv, nil, &out, &errb)
		return out.String(), err
	}
	out, err := lookup("hxxp://evil[.]example/payload", "--providers", "urlhaus,virustotal")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "url http://evil.example/payload") || !strings.Contains(out, "urlhaus") || !strings.Contains(out, "virustotal") || strings.Contains(out, "otx") {
		t.Errorf("table:\n%s", out)
	}
	if fake.Calls("urlhaus") != 1 || fake.Calls("otx") != 0 {
		t.Errorf("calls urlhaus=%d otx=%d", fake.Calls("urlhaus"), fake.Calls("otx"))
	}
	out, err = lookup("--json", "203.0.113.40") // listed: every provider has an answer
	if err != nil {
		t.Fatal(err)
	}
	var res lookupOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if res.Kind != "ipv4" || len(res.Results) < 8 {
		t.Errorf("json: kind %s, %d results", res.Kind, len(res.Results))
	}
	for _, r := range res.Results {
		if r.Status != "OK" && r.Status != "SKIPPED" {
			t.Errorf("%s: %s %+v", r.Provider, r.Status, r.Error)
		}
	}
	before := totalCalls(fake)
	if _, err := lookup("192.168.1.1"); err == nil || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("private address: %v", err)
	}
	if totalCalls(fake) != before {
		t.Error("a private address reached a provider")
	}
	var ue *usageError
	if _, err := lookup("8.8.8.8", "--providers", "nosuch"); err == nil || !errorsAs(err, &ue) {
		t.Errorf("unknown provider: %v", err)
	}
	if _, err := lookup("not an indicator"); err == nil || !strings.Contains(err.Error(), "invalid indicator") {
		t.Errorf("invalid value: %v", err)
	}
}
