package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
)

const userUsage = `Usage:
  gadget user create USERNAME [--admin] [--inactive]
  gadget user passwd USERNAME
  gadget user enable USERNAME
  gadget user disable USERNAME
  gadget user list

create and passwd read the password from the first line of standard input
(e.g. echo "$PW" | gadget user create alice); with nothing on
standard input they generate a strong random password and print it once.
Passwords are 12 to 72 bytes.`

func cmdUser(ctx context.Context, args []string, getenv envFunc, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, userUsage+"\n")
		if len(args) == 0 {
			return usagef("user: no subcommand given")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	fs := newFlags("user "+sub, userUsage, stdout)
	admin := fs.Bool("admin", false, "create: make the account an administrator")
	inactive := fs.Bool("inactive", false, "create: create the account disabled")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	wantArgs := 1
	switch sub {
	case "create", "passwd", "enable", "disable":
	case "list":
		wantArgs = 0
	default:
		return usagef("user: unknown subcommand %q", sub)
	}
	if fs.NArg() != wantArgs {
		return usagef("user %s: want %d argument(s), got %d", sub, wantArgs, fs.NArg())
	}
	if (*admin || *inactive) && sub != "create" {
		return usagef("user %s: --admin and --inactive apply to create only", sub)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, newLogger(stderr, cfg.LogLevel), buildOptions{migrate: true})
	if err != nil {
		return err
	}
	defer a.close(context.Background())
	name := fs.Arg(0)
	switch sub {
	case "create":
		pw, generated, err := readPassword(stdin)
		if err != nil {
			return err
		}
		u, err := a.auth.CreateUser(ctx, name, pw, *admin, !*inactive)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (admin=%t, active=%t)\n", u.Username, u.Admin, u.Active)
		if generated {
			fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
		}
	case "passwd":
		pw, generated, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if _, err := a.auth.SetUserPassword(ctx, name, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its earlier tokens no longer work\n", name)
		if generated {
			fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
		}
	case "enable", "disable":
		u, err := a.auth.SetUserActive(ctx, nil, name, sub == "enable")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", u.Username, map[bool]string{true: "enabled", false: "disabled"}[u.Active])
	case "list":
		us, err := a.auth.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tACTIVE\tADMIN\tCREATED\tLAST LOGIN\tLAST IP")
		for _, u := range us {
			last := "-"
			if u.LastLoginAt != nil {
				last = u.LastLoginAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%t\t%t\t%s\t%s\t%s\n", u.Username, u.Active, u.Admin, u.CreatedAt.Format(time.RFC3339), last, orDash(u.LastLoginIP))
		}
		return tw.Flush()
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readPassword reads the first line of stdin, or generates a password when
// stdin is empty.
func readPassword(stdin io.Reader) (pw string, generated bool, err error) {
	if stdin != nil {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", false, err
		}
		if pw = strings.TrimRight(line, "\r\n"); pw != "" {
			return pw, false, nil
		}
	}
	pw, err = auth.RandomPassword(24)
	return pw, true, err
}
