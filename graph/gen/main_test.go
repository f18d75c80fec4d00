package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// ZZNewSummary is the summary of a provider that exists only in this test.
type ZZNewSummary struct {
	Score  int       `json:"score"`
	Labels []string  `json:"labels"`
	Seen   time.Time `json:"seen"`
}

// TestNewProviderNeedsNoEdit registers a provider graph/gen has never heard
// of and checks that its GraphQL type, its field on the indicator types of
// its kinds (and only those) and the field's resolver are generated from
// the descriptor alone.
func TestNewProviderNeedsNoEdit(t *testing.T) {
	provider.Register(provider.Descriptor{
		Name: "zznew", Title: "ZZ New", Source: "ZZNew", Kinds: []indicator.Kind{indicator.IPv4, indicator.Domain},
		Summary: ZZNewSummary{}, Tags: []string{"reputation"}, Description: "A test-only provider.",
		VerdictRules: []string{"always UNKNOWN"}, MaxTLP: indicator.TLPAmber, TLPReason: "a test-only provider",
		New: func(provider.Config) (provider.Provider, error) { return nil, context.Canceled },
	})
	schema, models, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	s, m := string(schema), string(models)
	for _, want := range []string{
		"type ZZNew {",
		"  score: Int\n  labels: [String!]\n  seen: Time\n",
		"  zznew: ZZNew!\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("schema lacks %q", want)
		}
	}
	for typ, served := range map[string]bool{"IPAddress": true, "Domain": true, "URL": false, "FileHash": false} {
		block := s[strings.Index(s, "type "+typ+" implements Indicator {"):]
		block = block[:strings.Index(block, "}")]
		if got := strings.Contains(block, "zznew: ZZNew!"); got != served {
			t.Errorf("%s has a zznew field: %v, want %v", typ, got, served)
		}
		resolver := "func (m *" + typ + ") Zznew() (*ZZNew, error) {\n\treturn NewZZNew(m.get(\"zznew\"))"
		if got := strings.Contains(m, resolver); got != served {
			t.Errorf("models have the %s.zznew resolver: %v, want %v", typ, got, served)
		}
	}
	if !strings.Contains(m, "type ZZNew struct {") || !strings.Contains(m, "func NewZZNew(r *") {
		t.Error("models lack the ZZNew type or its constructor")
	}
}
