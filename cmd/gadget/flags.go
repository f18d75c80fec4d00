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
