// Command gadget is Inspector Gadget: a threat-intelligence enrichment API.
//
//	gadget serve | migrate | user … | version   (gadget help for more)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintln(os.Stderr, "gadget:", err)
	}
	stop()
	os.Exit(exitCode(err))
}

// exitCode is the process's exit status for run's error: 0 for none (or
// --help), 2 for a usage error, 1 for anything else.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

var errHelp = errors.New("help shown")

const topUsage = `Inspector Gadget: threat-intelligence enrichment API.

Usage:
  gadget serve   [--workers N]         run the API (GraphQL, REST, GraphiQL) and River workers
  gadget worker  [--queues a,b]        run River workers only (provider calls as jobs)
  gadget migrate                       apply database migrations
  gadget user create|passwd|enable|disable|list
  gadget lookup [--providers a,b] [--playbook P] [--tlp T] [--cached-only] [--json] VALUE... | -
                                       enrich indicators from the command line, no server
  gadget list [ls|import|export|add|rm]
                                       allow-lists and block-lists (MISP warninglists import)
  gadget playbook [list|add|rm]        named provider sets with a TLP and minimum coverage
  gadget docs providers|policy         write docs/providers.md, or docs/policy.md's TLP table,
                                       from the provider descriptors
  gadget extract [--json] [FILE]       print the indicators in pasted text (stdin), one per line
  gadget version                       print the version

Configuration is read from the environment (see docs/configuration.md);
"gadget <command> --help" for details. Exit status 2 means a usage error.
`

// run is the whole program; tests call it with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr)
	case "worker":
		return cmdWorker(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, getenv, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, getenv, stdin, stdout, stderr)
	case "lookup":
		return cmdLookup(ctx, rest, getenv, stdin, stdout, stderr)
	case "list":
		return cmdList(ctx, rest, getenv, stdin, stdout, stderr)
	case "playbook":
		return cmdPlaybook(ctx, rest, getenv, stdout, stderr)
	case "docs":
		return cmdDocs(ctx, rest, stdout)
	case "extract":
		return cmdExtract(ctx, rest, getenv, stdin, stdout, stderr)
	case "version":
		if len(rest) > 0 && (rest[0] == "--help" || rest[0] == "-h") {
			fmt.Fprintln(stdout, "Usage: gadget version\n\nPrints the version.")
			return nil
		}
		fmt.Fprintln(stdout, "gadget", version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, topUsage)
		return nil
	default:
		fmt.Fprint(stderr, topUsage)
		return usagef("unknown command %q", cmd)
	}
}
