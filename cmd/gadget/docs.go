package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

const docsUsage = `Usage: gadget docs providers [--out docs/providers.md]
       gadget docs policy [--out docs/policy.md]

providers writes the providers reference page (the provider table, each
provider's free tier and verdict rules, and the combined-verdict rules) from
the registered provider descriptors. policy rewrites the generated table of
docs/policy.md (every provider's default maximum TLP) in place. --out -
writes to standard output. A test fails when a committed page differs from
what this writes.

Flags:`

func cmdDocs(_ context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("docs", docsUsage, stdout)
	out := fs.String("out", "", "file to write, or - for standard output (default docs/<page>.md)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "providers" && fs.Arg(0) != "policy") {
		return usagef("docs: want \"docs providers\" or \"docs policy\" (see gadget docs --help)")
	}
	if *out == "" {
		*out = "docs/" + fs.Arg(0) + ".md"
	}
	var page []byte
	if fs.Arg(0) == "policy" {
		src := "docs/policy.md"
		if *out != "-" {
			src = *out
		}
		cur, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("docs: %w", err)
		}
		if page, err = policyPage(cur); err != nil {
			return fmt.Errorf("docs: %s: %w", src, err)
		}
	} else {
		page = providersPage()
	}
	if *out == "-" {
		_, err := stdout.Write(page)
		return err
	}
	if err := os.WriteFile(*out, page, 0o644); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// restSources is the provider's source name in the REST envelope, or the
// names of its parts (one entry each) when it answers in parts.
func restSources(d provider.Descriptor) string {
	if d.Parts == nil {
		return "`" + d.Source + "`"
	}
	var names []string
	for _, k := range d.Kinds {
		for _, n := range d.Parts(k) {
			if !slices.Contains(names, "`"+n+"`") {
				names = append(names, "`"+n+"`")
			}
		}
	}
	return strings.Join(names, " ")
}

// providersPage renders docs/providers.md from the descriptors.
func providersPage() []byte {
	var b bytes.Buffer
	b.WriteString(providersIntro)
	b.WriteString("| provider | REST `source` | service | kinds | key | default `RATE` | cache TTL / not-found TTL | timeout | default `MAX_TLP` | tags |\n|---|---|---|---|---|---|---|---|---|---|\n")
	ds := provider.Descriptors()
	for _, d := range ds {
		var kinds []string
		for _, k := range d.Kinds {
			kinds = append(kinds, string(k))
		}
		title := d.Title
		if d.Disabled {
			title += " (off by default)"
		}
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s | %s | `%s` | %s / %s | %s | `%s` | %s |\n", d.Name, d.Name, restSources(d), title, strings.Join(kinds, " "), d.Key,
			d.Rate, shortDuration(d.CacheTTL), shortDuration(d.NotFoundTTL), shortDuration(d.Timeout), d.MaxTLPOrDefault(), strings.Join(d.Tags, " "))
	}
	b.WriteString("\n## Terms of use of the free tiers\n\n" +
		"The default budgets are the free tiers, and several free tiers do not allow use in a business\n" +
		"workflow. Before production use, check each provider's terms; where a source states them, they\n" +
		"are:\n\n")
	for _, d := range ds {
		if d.Terms != "" {
			fmt.Fprintf(&b, "- `%s`: %s\n", d.Name, d.Terms)
		}
	}
	b.WriteString("\n## Verdict rules per provider\n\n" +
		"Each provider maps what it knows to `UNKNOWN BENIGN SUSPICIOUS MALICIOUS`, a 0–100 score and a\n" +
		"one-line reason. Within one provider the first matching rule wins; a not-found gives no verdict.\n")
	for _, d := range ds {
		where := "Base URL `" + d.BaseURL + "`"
		if d.NotHTTP {
			where = "Not over HTTP"
		}
		fmt.Fprintf(&b, "\n### %s\n\n%s %s; %s.", d.Name, d.Description, where, strings.TrimSuffix(d.FreeTier, "."))
		if d.Disabled {
			fmt.Fprintf(&b, " Off unless `GADGET_%s_ENABLED=true`.", strings.ToUpper(d.Name))
		}
		if d.CapsAtBenign {
			b.WriteString(" A known-good source: its BENIGN answer caps the combined verdict at BENIGN.")
		}
		b.WriteString("\n\n")
		for _, st := range d.Settings {
			def := "empty"
			if st.Default != "" {
				def = "`" + st.Default + "`"
			}
			fmt.Fprintf(&b, "- `GADGET_%s_%s` (default %s): %s\n", strings.ToUpper(d.Name), st.Name, def, st.Doc)
		}
		if len(d.Settings) > 0 {
			b.WriteString("\n")
		}
		terms := d.Terms
		if terms == "" {
			terms = "not summarised here; read the provider's terms before production use."
		}
		fmt.Fprintf(&b, "**Terms of use:** %s\n\n", terms)
		fmt.Fprintf(&b, "**Maximum TLP:** `%s` by default (`GADGET_%s_MAX_TLP`): %s.\n\n", d.MaxTLPOrDefault(), strings.ToUpper(d.Name), d.TLPReason)
		for i, r := range d.VerdictRules {
			fmt.Fprintf(&b, "%d. %s\n", i+1, r)
		}
	}
	b.WriteString(providersCombined)
	return b.Bytes()
}

// shortDuration prints 24h0m0s as 24h and 1m30s as it is.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

const providersIntro = `# Providers and verdict rules

<!-- Generated by "gadget docs providers" from the provider descriptors in internal/provider; do not edit by hand. -->

Each provider is one file in ` + "`internal/provider`" + `. It sends the documented request exactly
(auth header names, form or JSON bodies, VirusTotal's unpadded base64url URL id, percent-encoded
path segments), has its own HTTP client with a timeout and a 4 MiB response cap, reads each
service's own not-found signal, maps 429 and ` + "`Retry-After`" + `, 401/403, 5xx, malformed JSON and
timeouts to typed errors, and keeps the raw JSON, a typed summary and the upstream byte count. A
provider that needs a key and has none answers ` + "`NOT_CONFIGURED`" + ` without a network call. Keys never
appear in logs or errors.

Configure each with ` + "`GADGET_<P>_API_KEY`, `_BASE_URL`, `_ENABLED`, `_RATE`, `_BUDGET`, `_CACHE_TTL`, `_TIMEOUT`, `_MAX_TLP`" + `
(` + "`<P>`" + ` is the name in upper case; see [configuration](configuration.md)). ` + "`MAX_TLP`" + ` is the most
restrictive TLP a lookup may carry and still be sent to the provider; the table gives each default. The REST envelope names
each answer twice: ` + "`source`" + ` is the original service's source name (` + "`VirusTotal`, `AlienVaultOTX`" + `, …, so
playbooks written against it keep matching) and ` + "`provider`" + ` the stable id in the first column; a provider that
answers in parts (ThreatMiner's report types) has one entry per part, named as the original named it. Without any key, only
the keyless providers answer; ` + "`make demo`" + ` points every provider at the offline fake intel server.

`

// providersCombined is the combined-verdict section of docs/providers.md:
// prose that names providers, so it is kept as Markdown beside this file.
//
//go:embed docs_combined.md
var providersCombined string

// The generated part of docs/policy.md lies between these lines.
const (
	tlpTableBegin = "<!-- BEGIN generated by \"gadget docs policy\" from the descriptors; do not edit by hand -->\n"
	tlpTableEnd   = "<!-- END generated -->\n"
)

// policyPage is page (docs/policy.md) with its generated table of every
// provider's default maximum TLP written anew.
func policyPage(page []byte) ([]byte, error) {
	s := string(page)
	i := strings.Index(s, tlpTableBegin)
	j := strings.Index(s, tlpTableEnd)
	if i < 0 || j < i {
		return nil, errors.New("the generated table's BEGIN and END lines are missing")
	}
	var b strings.Builder
	b.WriteString("| provider | service | key | default maximum TLP | lookups | why |\n|---|---|---|---|---|---|\n")
	for _, d := range provider.Descriptors() {
		max := d.MaxTLPOrDefault()
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` (`GADGET_%s_MAX_TLP`) | %s | %s |\n", d.Name, d.Title, d.Key, max, strings.ToUpper(d.Name), tlpFate(max), d.TLPReason)
	}
	return []byte(s[:i+len(tlpTableBegin)] + b.String() + s[j:]), nil
}

// tlpFate says at which labels a provider with maximum max is asked and
// at which it answers from the cache only.
func tlpFate(max indicator.TLP) string {
	var asked, local []string
	for _, t := range []indicator.TLP{indicator.TLPClear, indicator.TLPGreen, indicator.TLPAmber, indicator.TLPAmberStrict, indicator.TLPRed} {
		if t > max {
			local = append(local, t.String())
		} else {
			asked = append(asked, t.String())
		}
	}
	out := "asked at " + strings.Join(asked, ", ")
	if len(local) > 0 {
		out += "; cache only at " + strings.Join(local, ", ")
	}
	return out
}
