package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/lookup"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

const lookupUsage = `Usage: gadget lookup VALUE [--kind K] [--providers a,b] [--json] [--timeout 20s]

Enriches one indicator from the command line, without a server, with the
configured providers (GADGET_<P>_API_KEY, GADGET_<P>_BASE_URL, ...). VALUE may
be defanged (hxxp://evil[.]example). Internal indicators (private addresses,
internal domains) are never sent anywhere. Prints a table, or JSON with --json.`

// lookupLine is one provider's answer, as printed.
type lookupLine struct {
	Provider  string          `json:"provider"`
	Status    string          `json:"status"`
	Level     string          `json:"verdict"`
	Score     int             `json:"score"`
	Reason    string          `json:"reason,omitempty"`
	LatencyMs int64           `json:"latencyMs"`
	Error     *lookupError    `json:"error,omitempty"`
	Summary   any             `json:"summary,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

type lookupError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type lookupOutput struct {
	Value   string       `json:"value"`
	Kind    string       `json:"kind"`
	Results []lookupLine `json:"results"`
}

func cmdLookup(ctx context.Context, args []string, getenv envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("lookup", lookupUsage, stdout)
	kind := fs.String("kind", "", "indicator kind: "+kindNames()+" (detected when empty)")
	names := fs.String("providers", "", "comma-separated providers to ask (default: every enabled one serving the kind)")
	asJSON := fs.Bool("json", false, "print JSON (with each provider's data)")
	timeout := fs.Duration("timeout", 20*time.Second, "deadline for the whole lookup")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("lookup: want exactly one VALUE, got %d", fs.NArg())
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	var ind indicator.Indicator
	if *kind != "" {
		k, err := indicator.ParseKind(*kind)
		if err != nil {
			return usagef("lookup: --kind: %v", err)
		}
		ind, err = indicator.ParseAs(fs.Arg(0), k)
		if err != nil {
			return err
		}
	} else if ind, err = indicator.Parse(fs.Arg(0)); err != nil {
		return err
	}
	if err := indicator.NewPolicy(cfg.InternalDomains).Check(ind); err != nil { // refuse outright: nothing to show
		return fmt.Errorf("%w; nothing was sent", err)
	}
	log := newLogger(stderr, cfg.LogLevel)
	reg, err := buildProviders(cfg, log)
	if err != nil {
		return err
	}
	ps, err := selectProviders(reg, ind.Kind, *names)
	if err != nil {
		return err
	}
	cfg.LookupDeadline = *timeout
	p := newPipeline(cfg, log, reg, nil, nil)
	engine, err := p.engine(&enrich.Inline{Fetcher: p.fetcher})
	if err != nil {
		return err
	}
	var selected []string
	for _, p := range ps {
		selected = append(selected, p.Descriptor().Name)
	}
	out := lookupOutput{Value: ind.Value, Kind: string(ind.Kind)}
	for _, r := range engine.Begin(ind, lookup.Options{}).All(ctx, selected) {
		out.Results = append(out.Results, lineOf(r))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "%s %s\n\n", out.Kind, out.Value)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tSTATUS\tVERDICT\tSCORE\tLATENCY\tDETAIL")
	for _, l := range out.Results {
		detail := l.Reason
		if l.Error != nil {
			detail = l.Error.Message
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%dms\t%s\n", l.Provider, l.Status, l.Level, l.Score, l.LatencyMs, detail)
	}
	return tw.Flush()
}

func kindNames() string {
	var s []string
	for _, k := range indicator.Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// selectProviders returns the live providers serving kind, limited to the
// comma-separated names when given (an unknown or disabled name is an error).
func selectProviders(reg *provider.Registry, kind indicator.Kind, names string) ([]provider.Provider, error) {
	if names == "" {
		return reg.ForKind(kind), nil
	}
	var out []provider.Provider
	for _, n := range strings.Split(names, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		p, ok := reg.Get(n)
		if !ok {
			if _, known := provider.Lookup(n); known {
				return nil, usagef("lookup: provider %q is disabled", n)
			}
			return nil, usagef("lookup: unknown provider %q (known: %s)", n, strings.Join(knownProviders(), ", "))
		}
		if !p.Descriptor().Serves(kind) {
			return nil, usagef("lookup: provider %q does not serve %s indicators", n, kind)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func knownProviders() []string {
	var out []string
	for _, d := range provider.Descriptors() {
		out = append(out, d.Name)
	}
	return out
}

// lineOf maps an engine result to a printed line.
func lineOf(r *lookup.Result) lookupLine {
	l := lookupLine{Provider: r.Provider, Status: string(r.Status), Level: r.Verdict.Level.String(), Score: r.Verdict.Score,
		Reason: r.Verdict.Reason, LatencyMs: r.Latency.Milliseconds(), Summary: r.Summary, Data: r.Data}
	if r.Err != nil {
		l.Error = &lookupError{Code: string(r.Err.Code), Message: r.Err.Message}
	}
	return l
}
