package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/store"
)

const lookupUsage = `Usage: gadget lookup [flags] VALUE... | -

Enriches indicators from the command line, without a server, with the
configured providers (GADGET_<P>_API_KEY, GADGET_<P>_BASE_URL, ...). Values
may be defanged (hxxp://evil[.]example). "-" reads more values from standard
input: a list, one per line (blank lines and lines starting with # are
skipped), or free text such as an alert or a log, whose indicators are
extracted as "gadget extract" does (what was left out is named on stderr).
Internal indicators (private addresses, internal domains) are never sent
anywhere: they are refused like invalid values.

Lists and playbooks: when the configured database exists (PostgreSQL, or the
SQLite file of GADGET_DATABASE_URL), its allow-lists, block-lists and
playbooks apply as on the server; without one, the built-in playbooks do.
--tlp sets the lookups' TLP (default the playbook's, else GADGET_DEFAULT_TLP):
a provider above its maximum is SKIPPED. --cached-only makes no upstream call;
the cache is this process's, or Redis's when GADGET_REDIS_URL is set.

Sightings: with the configured database, each value's earlier lookups (from
every transport and user) are shown ("seen 4 times by 3 analysts; last
verdict BENIGN 12 days ago"), and this run's lookups are recorded there as
sightings of the user "cli", source cli, with their TLP, in one audit row.

Output: for one value, its combined verdict with its coverage ("6 of 11
answered; 4 rate-limited, retry in 40s"), its sightings line and one line per
provider; for several, one line per value with its combined verdict and
coverage. --json prints one JSON object per line and value (value, kind,
verdict, sightings, results with each provider's data), in input order; a
value that cannot be looked up is an object with "error".

Exit status: 0 when every value was looked up (whatever the providers said),
1 when a value was invalid or refused (the others are still looked up),
2 on usage errors.

Flags:`

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

// lookupVerdict is the combined verdict of one value.
type lookupVerdict struct {
	Level   string   `json:"level"`
	Score   int      `json:"score"`
	Reasons []string `json:"reasons"`
	// Complete: every asked provider gave a final answer (and a
	// playbook's minimum coverage was met); Coverage says how they answered.
	Complete bool   `json:"complete"`
	Coverage string `json:"coverage"`
}

// lookupOutput is one value's answer: one JSON line with --json.
type lookupOutput struct {
	Value     string           `json:"value"`
	Kind      string           `json:"kind,omitempty"`
	Verdict   *lookupVerdict   `json:"verdict,omitempty"`
	Sightings *lookupSightings `json:"sightings,omitempty"` // without a database: none
	Results   []lookupLine     `json:"results,omitempty"`
	Error     *lookupError     `json:"error,omitempty"` // the value could not be looked up
}

// lookupSightings is the value's sightings before this run (policy.Summary).
type lookupSightings struct {
	Count         int64         `json:"count"`
	DistinctUsers int64         `json:"distinctUsers"`
	FirstSeen     *time.Time    `json:"firstSeen,omitempty"`
	LastSeen      *time.Time    `json:"lastSeen,omitempty"`
	LastVerdict   string        `json:"lastVerdict,omitempty"`
	Manual        *lookupManual `json:"manual,omitempty"`
	Text          string        `json:"text"`
}

// lookupManual is the latest analyst verdict on a sighting of the value.
type lookupManual struct {
	Verdict  string    `json:"verdict"`
	Note     string    `json:"note,omitempty"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
}

func newLookupSightings(s policy.Summary, now time.Time) *lookupSightings {
	out := &lookupSightings{Count: s.Count, DistinctUsers: s.DistinctUsers, LastVerdict: s.LastVerdict, Text: s.Card(now)}
	if s.Count > 0 {
		first, last := s.FirstSeen, s.LastSeen
		out.FirstSeen, out.LastSeen = &first, &last
	}
	if m := s.Manual; m != nil {
		out.Manual = &lookupManual{Verdict: string(m.Verdict), Note: m.Note, Username: m.Username, At: m.At}
	}
	return out
}

// lookupParallel is how many values are looked up at once; each asks its
// providers concurrently, so this bounds the calls in flight to about
// lookupParallel × providers.
const lookupParallel = 4

func cmdLookup(ctx context.Context, args []string, getenv envFunc, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("lookup", lookupUsage, stdout)
	kind := fs.String("kind", "", "indicator kind of every value: "+kindNames()+" (detected when empty)")
	names := fs.String("providers", "", "comma-separated providers to ask (default: every enabled one serving the kind)")
	asJSON := fs.Bool("json", false, "print one JSON object per value and line, with each provider's data")
	timeout := fs.Duration("timeout", enrich.DefaultDeadline, "deadline of each value's lookup")
	playbook := fs.String("playbook", "", "ask only this playbook's providers, with its TLP and minimum coverage (gadget playbook list)")
	tlp := fs.String("tlp", "", "the lookups' TLP: CLEAR, GREEN, AMBER, AMBER_STRICT or RED (default the playbook's, else GADGET_DEFAULT_TLP)")
	cachedOnly := fs.Bool("cached-only", false, "answer from the cache alone: no upstream call; what is not cached is PENDING")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("lookup: no VALUE given (\"-\" reads them from standard input)")
	}
	var k indicator.Kind
	if *kind != "" {
		var err error
		if k, err = indicator.ParseKind(*kind); err != nil {
			return usagef("lookup: --kind: %v", err)
		}
	}
	extract := func(text string) (indicator.Extraction, error) { return extractText(getenv, strings.NewReader(text)) }
	values, err := lookupValues(fs.Args(), stdin, extract, stderr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	reg, err := buildProviders(cfg, log, nil)
	if err != nil {
		return err
	}
	if reg, err = withoutLocal(reg); err != nil {
		return err
	}
	named, err := namedProviders(reg, *names)
	if err != nil {
		return err
	}
	if *playbook != "" && *names != "" {
		return usagef("lookup: give --playbook or --providers, not both")
	}
	cfg.LookupDeadline = *timeout
	gate, st, closeGate, err := lookupGate(ctx, cfg, log, reg)
	if err != nil {
		return err
	}
	defer closeGate()
	level, pb, err := gate.Options(*tlp, *playbook)
	if err != nil {
		return usagef("lookup: --%s: %s", errcode.Of(err).Field, errcode.Of(err).Message)
	}
	// no endpoint: the sightings' source is cli (policy.SourceOf)
	opts := lookup.Options{TLP: level, Playbook: pb, CachedOnly: *cachedOnly, Caller: lookup.Caller{Username: cliOwner}}
	start := time.Now()
	ctx, req := accounting.NewRequest(ctx) // the run's sightings, for its audit row

	var rdb *redis.Client // the shared cache and budgets, when configured
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return errors.New("GADGET_REDIS_URL: cannot parse")
		}
		rdb = redis.NewClient(opt)
		defer rdb.Close()
	}
	pl := newPipeline(cfg, log, reg, rdb, nil)
	pl.gate = gate
	engine, err := pl.engine(&enrich.Inline{Fetcher: pl.fetcher, Locker: pl.locker})
	if err != nil {
		return err
	}
	policy := indicator.NewPolicy(cfg.InternalDomains)
	lookOne := func(raw string) lookupOutput {
		ind, err := parseValue(raw, k)
		if err == nil {
			err = policy.Check(ind)
		}
		if err != nil {
			// unparsable, or internal (refused by the policy)
			return lookupOutput{Value: raw, Error: &lookupError{Code: string(errcode.BadIndicator), Message: err.Error() + "; nothing was sent"}}
		}
		out := lookupOutput{Value: ind.Value, Kind: string(ind.Kind)}
		selected := providersFor(reg, named, ind.Kind)
		if named != nil && len(selected) == 0 {
			out.Error = &lookupError{Code: string(errcode.BadRequest), Message: fmt.Sprintf("none of the providers %s serves %s indicators", *names, ind.Kind)}
			return out
		}
		if named == nil {
			selected = nil // every provider the playbook (or, without one, the kind) selects
		}
		if st != nil { // the sightings before this run's, which are written when it ends
			sum, err := gate.Sightings(ctx, ind)
			if err != nil {
				log.Warn("lookup: sightings summary", "err", err)
			} else {
				out.Sightings = newLookupSightings(sum, time.Now())
			}
		}
		lk := engine.Begin(ind, opts)
		rs := lk.All(ctx, selected)
		v := lookup.Assess(lk, rs)
		out.Verdict = &lookupVerdict{Level: v.Level.String(), Score: v.Score, Reasons: v.Reasons, Complete: v.Coverage.Complete(), Coverage: v.Coverage.String()}
		for _, r := range rs {
			out.Results = append(out.Results, lineOf(r))
		}
		return out
	}

	p := newLookupPrinter(stdout, stderr, *asJSON, len(values) == 1)
	for _, out := range inOrder(values, lookupParallel, lookOne) {
		if err := p.print(out); err != nil {
			return err
		}
	}
	if err := p.flush(); err != nil {
		return err
	}
	if st != nil {
		params := map[string]any{"values": len(values), "tlp": level.String()}
		for k, v := range map[string]string{"providers": *names, "playbook": pb} {
			if v != "" {
				params[k] = v
			}
		}
		if *cachedOnly {
			params["cached_only"] = true
		}
		rec := accounting.Record{Username: cliOwner, API: "lookup", Endpoint: "gadget lookup", Parameters: accounting.Redact(params),
			Status: "ok", Latency: time.Since(start), At: start}
		req.Fill(&rec)
		if err := st.WriteUsage(context.WithoutCancel(ctx), accounting.NewBatch([]accounting.Record{rec}, nil)); err != nil {
			log.Warn("lookup: the sightings were not recorded", "err", err) // the answers stand
		}
	}
	if p.failed > 0 {
		return fmt.Errorf("lookup: %d of %d values could not be looked up", p.failed, len(values)) // exit status 1
	}
	return nil
}

// lookupValues gathers the values: the arguments in order, with "-"
// replaced by the values read from stdin (see readValues).
func lookupValues(args []string, stdin io.Reader, extract func(string) (indicator.Extraction, error), stderr io.Writer) ([]string, error) {
	var out []string
	readStdin := false
	for _, a := range args {
		if a != "-" {
			out = append(out, a)
			continue
		}
		if readStdin {
			return nil, usagef("lookup: \"-\" given twice")
		}
		readStdin = true
		if stdin == nil {
			stdin = strings.NewReader("")
		}
		vs, err := readValues(stdin, extract, stderr)
		if err != nil {
			return nil, fmt.Errorf("lookup: reading standard input: %w", err)
		}
		out = append(out, vs...)
	}
	if len(out) == 0 {
		return nil, usagef("lookup: no values on standard input")
	}
	return out, nil
}

// readValues turns standard input into values. A list (every line one
// word; blank lines and # comments skipped) is taken line by line, so an
// invalid line is reported as such; anything else is free text (an alert, a
// log, an e-mail) whose indicators are extracted, with what was left out and
// why written to stderr.
func readValues(r io.Reader, extract func(string) (indicator.Extraction, error), stderr io.Writer) ([]string, error) {
	text, err := io.ReadAll(io.LimitReader(r, indicator.MaxTextLen+1))
	if err != nil {
		return nil, err
	}
	var list []string
	free := false
	for line := range strings.Lines(string(text)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			free = true
			break
		}
		list = append(list, line)
	}
	if !free {
		return list, nil
	}
	ex, err := extract(string(text))
	if err != nil {
		return nil, err
	}
	for _, w := range ex.Internal {
		fmt.Fprintf(stderr, "internal %s: %s; not looked up\n", w.Value, w.Reason)
	}
	for _, ig := range ex.Ignored {
		fmt.Fprintf(stderr, "ignored %s: %s\n", ig.Text, ig.Reason)
	}
	return ex.Values(), nil
}

func parseValue(raw string, k indicator.Kind) (indicator.Indicator, error) {
	if k != "" {
		return indicator.ParseAs(raw, k)
	}
	return indicator.Parse(raw)
}

// inOrder applies f to every value, n at a time, and yields the answers in
// input order as soon as each one and those before it are done.
func inOrder[T any](values []string, n int, f func(string) T) iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		done := make([]chan T, len(values))
		for i := range done {
			done[i] = make(chan T, 1)
		}
		slots := make(chan struct{}, n)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for i, v := range values {
				select {
				case slots <- struct{}{}:
				case <-stop:
					return
				}
				go func() {
					defer func() { <-slots }()
					done[i] <- f(v)
				}()
			}
		}()
		for i := range values {
			if !yield(i, <-done[i]) {
				return
			}
		}
	}
}

// lookupPrinter writes answers as they come: JSON lines, the detail of a
// single value, or one table row per value.
type lookupPrinter struct {
	stdout, stderr io.Writer
	json, single   bool
	rows           *tabwriter.Writer
	failed         int
}

func newLookupPrinter(stdout, stderr io.Writer, asJSON, single bool) *lookupPrinter {
	p := &lookupPrinter{stdout: stdout, stderr: stderr, json: asJSON, single: single}
	if !asJSON && !single {
		p.rows = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(p.rows, "VALUE\tKIND\tVERDICT\tSCORE\tCOVERAGE\tREASON")
	}
	return p
}

func (p *lookupPrinter) print(out lookupOutput) error {
	if out.Error != nil {
		p.failed++
		fmt.Fprintf(p.stderr, "gadget: %s: %s\n", out.Value, out.Error.Message)
	}
	switch {
	case p.json:
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.stdout, "%s\n", b)
		return err
	case out.Error != nil:
		return nil
	case p.single:
		return printDetail(p.stdout, out)
	}
	reason := "-"
	if len(out.Verdict.Reasons) > 0 {
		reason = out.Verdict.Reasons[0]
		if more := len(out.Verdict.Reasons) - 1; more > 0 {
			reason += fmt.Sprintf(" (+%d more)", more)
		}
	}
	fmt.Fprintf(p.rows, "%s\t%s\t%s\t%d\t%s\t%s\n", out.Value, out.Kind, out.Verdict.Level, out.Verdict.Score, out.Verdict.Coverage, reason)
	return nil
}

func (p *lookupPrinter) flush() error {
	if p.rows == nil {
		return nil
	}
	return p.rows.Flush()
}

// printDetail prints one value: the combined verdict and its reasons, then a
// line per provider.
func printDetail(w io.Writer, out lookupOutput) error {
	fmt.Fprintf(w, "%s %s\nverdict: %s %d (%s)\n", out.Kind, out.Value, out.Verdict.Level, out.Verdict.Score, out.Verdict.Coverage)
	for _, r := range out.Verdict.Reasons {
		fmt.Fprintf(w, "  %s\n", r)
	}
	if out.Sightings != nil {
		fmt.Fprintf(w, "sightings: %s\n", out.Sightings.Text)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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

// namedProviders checks the comma-separated provider names (an unknown or
// disabled name is a usage error); nil when names is empty.
// withoutLocal leaves out the local providers (the feeds): the command line
// keeps no downloaded lists, so they answer SKIPPED (provider is disabled)
// here and from the server.
func withoutLocal(reg *provider.Registry) (*provider.Registry, error) {
	var keep []provider.Provider
	for _, p := range reg.All() {
		if !p.Descriptor().Local {
			keep = append(keep, p)
		}
	}
	return provider.NewRegistry(keep...)
}

func namedProviders(reg *provider.Registry, names string) ([]provider.Provider, error) {
	if names == "" {
		return nil, nil
	}
	out := []provider.Provider{}
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
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// providersFor names the providers to ask about a kind: the named ones that
// serve it, or (named nil) every live one that does.
func providersFor(reg *provider.Registry, named []provider.Provider, kind indicator.Kind) []string {
	ps := named
	if ps == nil {
		ps = reg.ForKind(kind)
	}
	out := []string{}
	for _, p := range ps {
		if p.Descriptor().Serves(kind) {
			out = append(out, p.Descriptor().Name)
		}
	}
	return out
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

// lookupGate is the lists, TLP and playbooks a command-line lookup applies:
// the configured database's when it exists (the lookup never creates
// one), else the built-in playbooks alone; and that database, where the
// run's sightings are read and written (nil without one).
func lookupGate(ctx context.Context, cfg *Config, log *slog.Logger, reg *provider.Registry) (*policy.Service, *store.Store, func(), error) {
	pc := policyConfig(cfg, log, reg)
	var st *store.Store
	closeStore := func() {}
	if _, err := os.Stat(strings.TrimPrefix(cfg.DatabaseURL, "sqlite://")); cfg.IsPostgres() || err == nil {
		if st, err = openStore(ctx, cfg, log, true); err != nil {
			return nil, nil, nil, err
		}
		pc.Store, closeStore = st, func() { st.Close() }
	} else {
		pc.Store = policy.NewMemoryStore()
	}
	svc, err := policy.New(pc)
	if err == nil {
		err = svc.Load(ctx)
	}
	if err != nil {
		closeStore()
		return nil, nil, nil, err
	}
	return svc, st, closeStore, nil
}
