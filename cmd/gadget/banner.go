package main

import (
	"fmt"
	"io"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// printBanner tells whoever started `gadget serve` where things are, after
// the "listening on" line, and says so in one line when no provider has a
// key (then only the keyless providers answer).
func printBanner(w io.Writer, base string, cfg *Config) {
	fmt.Fprintf(w, "  GraphiQL     %s/\n  portal       %s/portal/\n  REST docs    %s/docs\n", base, base, base)
	if !anyProviderKey(cfg) {
		fmt.Fprintln(w, "  no provider keys configured — see docs/providers.md, or try `make demo`")
	}
}

// anyProviderKey reports whether an enabled provider that takes a key has one.
func anyProviderKey(cfg *Config) bool {
	for _, d := range provider.Descriptors() {
		s := cfg.Providers[d.Name]
		if d.Key != provider.KeyNone && s.Enabled && s.APIKey != "" {
			return true
		}
	}
	return false
}
