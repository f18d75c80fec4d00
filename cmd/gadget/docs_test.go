package main

import (
	"bytes"
	"os"
	"testing"
)

// TestDocsProvidersCurrent fails when docs/providers.md is not what
// `gadget docs providers` writes from the descriptors.
func TestDocsProvidersCurrent(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../../docs/providers.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, providersPage()) {
		t.Error("docs/providers.md is stale: run `go run ./cmd/gadget docs providers` and commit it")
	}
}
