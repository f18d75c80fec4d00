package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// flagSet is a command's flags with the usage text --help prints.
type flagSet struct {
	*flag.FlagSet
	usage  string
	stdout io.Writer
}

// newFlags returns a flag set that prints usage to stdout for --help and
// reports mistakes as usage errors.
func newFlags(name, usage string, stdout io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage itself on --help and on every mistake;
	// parseFlags prints the usage once, for --help only.
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, usage: usage, stdout: stdout}
}

// printUsage writes the usage text and the flags' defaults to stdout.
func (fs *flagSet) printUsage() {
	fmt.Fprintln(fs.stdout, fs.usage)
	fs.SetOutput(fs.stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFlags parses args, allowing flags after positional arguments
// ("user create alice --admin"); --help prints usage and returns errHelp.
// A lone "-" is a positional argument (standard input). The positional
// arguments are then fs.Args().
func parseFlags(fs *flagSet, args []string) error {
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.printUsage()
			return errHelp
		}
		if err != nil {
			return usagef("%s: %v (see gadget %s --help)", fs.Name(), err, fs.Name())
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// subcommand reads a command's subcommand from args and returns it, the
// arguments after it and its flag set. --help prints usage; no subcommand
// is dflt, or a usage error when dflt is ""; an unknown one prints usage
// to stderr.
func subcommand(cmd string, args []string, dflt, usage string, subUsage map[string]string, stdout, stderr io.Writer) (string, []string, *flagSet, error) {
	if len(args) == 0 && dflt == "" {
		fmt.Fprint(stdout, usage+"\n")
		return "", nil, nil, usagef("%s: no subcommand given", cmd)
	}
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
		fmt.Fprint(stdout, usage+"\n")
		return "", nil, nil, errHelp
	}
	sub, rest := dflt, args
	if len(args) > 0 {
		sub, rest = args[0], args[1:]
	}
	u, ok := subUsage[sub]
	if !ok {
		fmt.Fprint(stderr, usage+"\n")
		return "", nil, nil, usagef("%s: unknown subcommand %q", cmd, sub)
	}
	return sub, rest, newFlags(cmd+" "+sub, u, stdout), nil
}
