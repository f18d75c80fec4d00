package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"golang.org/x/net/publicsuffix"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

const extractUsage = `Usage: gadget extract [--json] [--quiet] [FILE]

Reads text (alert JSON, log lines, an e-mail with its headers, a threat
report) from FILE, or from stdin when FILE is absent or "-", and prints the
indicators in it: one canonical value per line, in order of first
appearance, each once. Defanged values (hxxp://evil[.]example) are refanged.
Nothing is looked up: pipe the output to "gadget lookup -".

Values that policy keeps inside (private addresses, GADGET_INTERNAL_DOMAINS)
and tokens that looked like indicators but are not (file names, version
numbers, CIDR prefixes, ...) are reported on stderr with the reason, as
"internal VALUE: REASON" and "ignored TEXT: REASON" (--quiet drops them).
--json prints the whole extraction instead: each indicator with its kind,
raw form and byte spans, the internal values and the ignored tokens.
At most 1 MiB of text.`

// newExtractor is the Extractor every surface uses: the configured policy
// and the public suffix list of golang.org/x/net/publicsuffix (the
// indicator package stays free of dependencies, so the list is injected).
func newExtractor(cfg *Config) indicator.Extractor {
	return indicator.Extractor{Policy: indicator.NewPolicy(cfg.InternalDomains), PublicSuffix: publicsuffix.PublicSuffix}
}

// extractText finds the indicators in text read from r (at most 1 MiB)
// with the configured policy; "gadget lookup -" can take its values.
func extractText(getenv envFunc, r io.Reader) (indicator.Extraction, error) {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return indicator.Extraction{}, err
	}
	text, err := io.ReadAll(io.LimitReader(r, indicator.MaxTextLen+1))
	if err != nil {
		return indicator.Extraction{}, fmt.Errorf("read: %w", err)
	}
	return newExtractor(cfg).Extract(string(text))
}

func cmdExtract(_ context.Context, args []string, getenv envFunc, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("extract", extractUsage, stdout)
	asJSON := fs.Bool("json", false, "print the whole extraction as JSON")
	quiet := fs.Bool("quiet", false, "do not report internal values and ignored tokens on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("extract: want at most one FILE, got %d", fs.NArg())
	}
	in := stdin
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("extract: %w", err)
		}
		defer f.Close()
		in = f
	}
	ex, err := extractText(getenv, in)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(ex)
	}
	for _, f := range ex.Indicators {
		fmt.Fprintln(stdout, f.Value)
	}
	if !*quiet {
		for _, w := range ex.Internal {
			fmt.Fprintf(stderr, "internal %s: %s\n", w.Value, w.Reason)
		}
		for _, ig := range ex.Ignored {
			fmt.Fprintf(stderr, "ignored %s: %s\n", ig.Text, ig.Reason)
		}
		if ex.IgnoredOmitted > 0 {
			fmt.Fprintf(stderr, "ignored %d more tokens\n", ex.IgnoredOmitted)
		}
	}
	return nil
}
