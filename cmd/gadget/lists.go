package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/policy"
)

const listUsage = `Usage:
  gadget list [ls]                                  every list with its effect and size
  gadget list import [--format misp|lines] [--name N] [--effect E] FILE... | -
  gadget list export [--format lines|json] NAME
  gadget list add [--effect E] [--reason R] [--expires 30d] NAME VALUE...
  gadget list rm NAME VALUE...  |  gadget list rm --all NAME

Allow-lists and block-lists in the configured database (GADGET_DATABASE_URL),
as GraphQL and /api/admin/lists change them; a running server picks changes up
within seconds. Effects: NEVER_SEND (no provider is asked), KNOWN_GOOD (the
verdict is capped at BENIGN), BLOCK (the verdict is MALICIOUS). Values: an
address, a CIDR, a domain (matches the names under it too), =host (that name
only), a URL (a prefix) or a hash; defanged is accepted. See docs/policy.md.
"gadget list SUBCOMMAND --help" for one.`

var listSubUsage = map[string]string{
	"ls": "Usage: gadget list ls\n\nLists every list with its effect, size and description.",
	"import": `Usage: gadget list import [--format misp|lines] [--name N] [--effect E] FILE... | -

--format misp (the default) reads MISP warninglists (github.com/MISP/misp-warninglists,
lists/*/list.json): each goes into a KNOWN_GOOD list, "misp-" and its name unless --name
is given (one file only), created when missing. Entries that cannot be matched exactly
(regex and substring lists) are reported as skipped, with why.
--format lines reads one value per line (blank lines and # comments skipped; a reason may
follow the value after a tab) into the list --name, created with --effect when missing.

Flags:`,
	"export": `Usage: gadget list export [--format lines|json] NAME

Prints a list's entries: one value per line (lines, which import --format lines reads
back), or one JSON object per line with value, type, reason, owner, created_at and
expires_at (json).

Flags:`,
	"add": `Usage: gadget list add [--effect E] [--reason R] [--expires 30d] NAME VALUE...

Adds values to a list (an existing value is replaced); with --effect the list is
created when missing. Every bad value is reported and none is added then.

Flags:`,
	"rm": `Usage: gadget list rm NAME VALUE...   or   gadget list rm --all NAME

Removes values from a list, or with --all deletes the list and every entry.

Flags:`,
}

// cliOwner is the owner of what the command line creates.
const cliOwner = "cli"

func cmdList(ctx context.Context, args []string, getenv envFunc, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, rest, fs, err := subcommand("list", args, "ls", listUsage, listSubUsage, stdout, stderr)
	if err != nil {
		return err
	}
	var format, name, effect, reason, expires *string
	var all *bool
	switch sub {
	case "import":
		format = fs.String("format", "misp", "misp (MISP warninglists) or lines (one value per line)")
		name = fs.String("name", "", "the list to import into")
		effect = fs.String("effect", "", "with --format lines: the effect of a list created by the import")
	case "export":
		format = fs.String("format", "lines", "lines or json")
	case "add":
		effect = fs.String("effect", "", "create the list with this effect when missing")
		reason = fs.String("reason", "", "why the values are listed")
		expires = fs.String("expires", "", "when the entries stop applying: a duration (30d, 12h) or an RFC 3339 time")
	case "rm":
		all = fs.Bool("all", false, "delete the whole list")
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	var opts listOpts
	switch sub {
	case "ls":
		err = wantArgs(fs.NArg(), 0, 0, "list ls")
	case "import":
		err = wantArgs(fs.NArg(), 1, -1, "list import")
		if err == nil && *format != "misp" && *format != "lines" {
			err = usagef("list import: --format is misp or lines")
		}
		if err == nil && *format == "lines" && *name == "" {
			err = usagef("list import --format lines: --name is required")
		}
		if err == nil && *format == "misp" && *name != "" && fs.NArg() > 1 {
			err = usagef("list import: --name takes one warninglist file")
		}
		if err == nil && *format == "misp" && *effect != "" {
			err = usagef("list import: a MISP warninglist goes into a KNOWN_GOOD list; --effect is for --format lines")
		}
	case "export":
		err = wantArgs(fs.NArg(), 1, 1, "list export")
		if err == nil && *format != "lines" && *format != "json" {
			err = usagef("list export: --format is lines or json")
		}
	case "add":
		err = wantArgs(fs.NArg(), 2, -1, "list add")
		if err == nil && *expires != "" {
			opts.expires, err = parseExpiry(*expires, time.Now())
		}
	case "rm":
		if *all {
			err = wantArgs(fs.NArg(), 1, 1, "list rm --all")
		} else {
			err = wantArgs(fs.NArg(), 2, -1, "list rm")
		}
	}
	if err == nil && effect != nil && *effect != "" {
		if opts.effect, err = policy.ParseEffect(*effect); err != nil {
			err = usagef("list %s: --effect: %v", sub, err)
		}
	}
	if err != nil {
		return err
	}
	if reason != nil {
		opts.reason = *reason
	}
	if name != nil {
		opts.name = *name
	}
	if format != nil {
		opts.format = *format
	}
	svc, done, err := openPolicy(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	switch sub {
	case "ls":
		return printLists(ctx, svc, stdout)
	case "import":
		return importLists(ctx, svc, opts, fs.Args(), stdin, stdout)
	case "export":
		return exportList(ctx, svc, fs.Arg(0), opts.format, stdout)
	case "add":
		return addToList(ctx, svc, fs.Arg(0), fs.Args()[1:], opts, stdout)
	default: // rm
		if *all {
			if _, err := svc.DeleteList(ctx, fs.Arg(0)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "deleted list %s\n", fs.Arg(0))
			return nil
		}
		l, err := svc.RemoveEntries(ctx, fs.Arg(0), fs.Args()[1:])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d entries\n", l.Name, l.Entries)
		return nil
	}
}

// listOpts are the flags a list subcommand read.
type listOpts struct {
	format, name, reason string
	effect               policy.Effect
	expires              time.Time
}

// wantArgs checks the count of positional arguments (most < 0: no limit).
func wantArgs(n, least, most int, cmd string) error {
	if n < least || (most >= 0 && n > most) {
		return usagef("%s: wrong number of arguments (see gadget %s --help)", cmd, strings.Fields(cmd)[0]+" "+strings.Fields(cmd)[1])
	}
	return nil
}

// parseExpiry reads --expires: a duration from now (with d for days) or an
// RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == d {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, usagef("--expires %q: give a duration (30d, 12h) or an RFC 3339 time", s)
}

// openPolicy opens the configured database (migrating it) and loads its
// lists and playbooks; done closes it.
func openPolicy(ctx context.Context, getenv envFunc, stderr io.Writer) (*policy.Service, func(), error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, nil, err
	}
	a, err := build(ctx, cfg, newLogger(stderr, cfg.LogLevel), buildOptions{migrate: true})
	if err != nil {
		return nil, nil, err
	}
	return a.policy, func() { a.close(context.Background()) }, nil
}

func printLists(ctx context.Context, svc *policy.Service, stdout io.Writer) error {
	ls, err := svc.Lists(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tEFFECT\tENTRIES\tOWNER\tDESCRIPTION")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", l.Name, l.Effect, l.Entries, l.Owner, l.Description)
	}
	return tw.Flush()
}

// importLists imports each file ("-": standard input).
func importLists(ctx context.Context, svc *policy.Service, o listOpts, files []string, stdin io.Reader, stdout io.Writer) error {
	for _, f := range files {
		r, closeFile, err := openInput(f, stdin)
		if err != nil {
			return err
		}
		err = importOne(ctx, svc, o, f, r, stdout)
		closeFile()
		if err != nil {
			return err
		}
	}
	return nil
}

func importOne(ctx context.Context, svc *policy.Service, o listOpts, file string, r io.Reader, stdout io.Writer) error {
	if o.format == "lines" {
		in, err := readEntryLines(r, o.reason)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := ensureList(ctx, svc, o.name, o.effect); err != nil {
			return err
		}
		var l policy.List
		for len(in) > 0 {
			n := min(len(in), policy.MaxEntriesPerCall)
			if l, err = svc.AddEntries(ctx, cliOwner, o.name, in[:n]); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			in = in[n:]
		}
		if l.Name == "" {
			l, err = svc.List(ctx, o.name)
			if err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%s: list %s (%s) has %d entries\n", file, l.Name, l.Effect, l.Entries)
		return nil
	}
	w, err := policy.ParseWarninglist(r)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	rep, err := svc.ImportWarninglist(ctx, cliOwner, o.name, w)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	verb := "updated"
	if rep.Created {
		verb = "created"
	}
	fmt.Fprintf(stdout, "%s: %s KNOWN_GOOD list %s: %d imported, %d skipped; %d entries\n", file, verb, rep.List.Name, rep.Imported, len(rep.Skipped), rep.List.Entries)
	for i, s := range rep.Skipped {
		if i == 20 {
			fmt.Fprintf(stdout, "  skipped: and %d more\n", len(rep.Skipped)-20)
			break
		}
		fmt.Fprintf(stdout, "  skipped %s: %s\n", s.Value, s.Reason)
	}
	return nil
}

// openInput opens a file, or standard input for "-".
func openInput(name string, stdin io.Reader) (io.Reader, func(), error) {
	if name == "-" {
		if stdin == nil {
			stdin = strings.NewReader("")
		}
		return stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// readEntryLines reads one value per line, an optional reason after a tab.
func readEntryLines(r io.Reader, reason string) ([]policy.EntryInput, error) {
	var out []policy.EntryInput
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), policy.MaxValueLen+policy.MaxReasonLen+16)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, why, ok := strings.Cut(line, "\t")
		if !ok {
			why = reason
		}
		out = append(out, policy.EntryInput{Value: strings.TrimSpace(v), Reason: strings.TrimSpace(why)})
	}
	return out, sc.Err()
}

// ensureList creates list name with effect when it does not exist; an
// existing list of another effect is a usage error.
func ensureList(ctx context.Context, svc *policy.Service, name string, effect policy.Effect) error {
	if l, err := svc.List(ctx, name); err == nil {
		if effect != "" && l.Effect != effect {
			return usagef("list %s is %s, not %s", name, l.Effect, effect)
		}
		return nil
	}
	if effect == "" {
		return usagef("no list %q: give --effect NEVER_SEND, KNOWN_GOOD or BLOCK to create it", name)
	}
	_, err := svc.CreateList(ctx, cliOwner, name, effect, "")
	return err
}

func addToList(ctx context.Context, svc *policy.Service, name string, values []string, o listOpts, stdout io.Writer) error {
	if err := ensureList(ctx, svc, name, o.effect); err != nil {
		return err
	}
	in := make([]policy.EntryInput, len(values))
	for i, v := range values {
		in[i] = policy.EntryInput{Value: v, Reason: o.reason, ExpiresAt: o.expires}
	}
	l, err := svc.AddEntries(ctx, cliOwner, name, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s): %d entries\n", l.Name, l.Effect, l.Entries)
	return nil
}

type entryLine struct {
	Value     string     `json:"value"`
	Type      string     `json:"type"`
	Reason    string     `json:"reason"`
	Owner     string     `json:"owner"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// exportList prints every entry of a list, by value, a page at a time.
func exportList(ctx context.Context, svc *policy.Service, name, format string, stdout io.Writer) error {
	w := bufio.NewWriter(stdout)
	after := ""
	for {
		es, err := svc.Entries(ctx, name, after, 10_000)
		if err != nil {
			return err
		}
		for _, e := range es {
			if format == "lines" {
				if e.Reason != "" {
					fmt.Fprintf(w, "%s\t%s\n", e.Value, e.Reason)
				} else {
					fmt.Fprintln(w, e.Value)
				}
				continue
			}
			l := entryLine{Value: e.Value, Type: string(e.Type), Reason: e.Reason, Owner: e.Owner, CreatedAt: e.CreatedAt.UTC()}
			if !e.ExpiresAt.IsZero() {
				t := e.ExpiresAt.UTC()
				l.ExpiresAt = &t
			}
			b, _ := json.Marshal(l)
			w.Write(append(b, '\n'))
		}
		if len(es) < 10_000 {
			return w.Flush()
		}
		after = es[len(es)-1].Value
	}
}

const playbookUsage = `Usage:
  gadget playbook [list]
  gadget playbook add NAME --providers a,tag:x,kind:url [--description D] [--tlp T] [--min-coverage N]
  gadget playbook rm NAME

Playbooks are named sets of providers for one kind of case, in the configured
database: "gadget lookup --playbook NAME", GraphQL indicator(playbook:) and
REST ?playbook= ask only their providers, with their default TLP. Members are
provider names and selectors: tag:NAME, kind:KIND, key:none|optional|required.
--min-coverage N: N percent of the asked providers must answer for a complete
verdict (0: no minimum). See docs/policy.md.`

var playbookSubUsage = map[string]string{
	"list": "Usage: gadget playbook list\n\nLists every playbook with its members, the providers they select now, its TLP and minimum coverage.",
	"add":  "Usage: gadget playbook add NAME --providers a,b [--description D] [--tlp T] [--min-coverage N]\n\nCreates or replaces a playbook.\n\nFlags:",
	"rm":   "Usage: gadget playbook rm NAME\n\nDeletes a playbook (a deleted built-in is not brought back).",
}

func cmdPlaybook(ctx context.Context, args []string, getenv envFunc, stdout, stderr io.Writer) error {
	sub, rest, fs, err := subcommand("playbook", args, "list", playbookUsage, playbookSubUsage, stdout, stderr)
	if err != nil {
		return err
	}
	var providers, desc, tlp *string
	var minCov *int
	if sub == "add" {
		providers = fs.String("providers", "", "comma-separated provider names and selectors (required)")
		desc = fs.String("description", "", "what the playbook is for")
		tlp = fs.String("tlp", "", "the TLP of its lookups when none is given (default GADGET_DEFAULT_TLP)")
		minCov = fs.Int("min-coverage", 0, "percent of the asked providers that must answer for a complete verdict")
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	var p policy.Playbook
	switch sub {
	case "list":
		if err := wantArgs(fs.NArg(), 0, 0, "playbook list"); err != nil {
			return err
		}
	case "add":
		if err := wantArgs(fs.NArg(), 1, 1, "playbook add"); err != nil {
			return err
		}
		p = policy.Playbook{Name: fs.Arg(0), Description: *desc, MinCoverage: *minCov}
		for _, m := range strings.Split(*providers, ",") {
			if m = strings.TrimSpace(m); m != "" {
				p.Members = append(p.Members, m)
			}
		}
		if len(p.Members) == 0 {
			return usagef("playbook add: --providers is required")
		}
		if *tlp != "" {
			t, err := indicator.ParseTLP(*tlp)
			if err != nil {
				return usagef("playbook add: --tlp: %v", err)
			}
			p.DefaultTLP = t
		}
	case "rm":
		if err := wantArgs(fs.NArg(), 1, 1, "playbook rm"); err != nil {
			return err
		}
	}
	svc, done, err := openPolicy(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer done()
	switch sub {
	case "add":
		out, err := svc.PutPlaybook(ctx, cliOwner, p)
		if err != nil {
			return err
		}
		return printPlaybooks(svc, []*policy.Playbook{out}, stdout)
	case "rm":
		if _, err := svc.DeletePlaybook(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted playbook %s\n", fs.Arg(0))
		return nil
	}
	return printPlaybooks(svc, svc.Playbooks(), stdout)
}

func printPlaybooks(svc *policy.Service, ps []*policy.Playbook, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTLP\tMIN COVERAGE\tMEMBERS\tPROVIDERS NOW")
	for _, p := range ps {
		tlp := p.DefaultTLP
		if tlp == 0 {
			tlp = svc.DefaultTLP()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d%%\t%s\t%s\n", p.Name, tlp, p.MinCoverage, strings.Join(p.Members, ","), strings.Join(svc.Members(p), ","))
	}
	return tw.Flush()
}
