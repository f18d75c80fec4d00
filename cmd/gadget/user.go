package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
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
  gadget user budget USERNAME PROVIDER PER_DAY
  gadget user list

create and passwd read the password from the first line of standard input
(e.g. echo "$PW" | gadget user create alice); with nothing on
standard input they generate a strong random password and print it once.
Passwords are 12 to 72 bytes. "gadget user SUBCOMMAND --help" for one.`

const passwordNote = `

The password is the first line of standard input (echo "$PW" | gadget user
%[1]s %[2]s); with nothing on standard input a strong random password is
generated and printed once. Passwords are 12 to 72 bytes.`

// userSubUsage is each subcommand's own usage text.
var userSubUsage = map[string]string{
	"create":  "Usage: gadget user create USERNAME [--admin] [--inactive]\n\nCreates an account." + fmt.Sprintf(passwordNote, "create", "alice") + "\n\nFlags:",
	"passwd":  "Usage: gadget user passwd USERNAME\n\nSets an account's password; the account's earlier tokens stop working." + fmt.Sprintf(passwordNote, "passwd", "alice"),
	"enable":  "Usage: gadget user enable USERNAME\n\nLets a disabled account sign in again.",
	"disable": "Usage: gadget user disable USERNAME\n\nDisables an account; its tokens and portal sessions stop working at once.",
	"list":    "Usage: gadget user list\n\nLists every account with its last sign-in.",
	"budget":  "Usage: gadget user budget USERNAME PROVIDER PER_DAY\n\nSets the account's daily budget of upstream calls to PROVIDER (0 removes it);\nbeyond it the provider answers the account RATE_LIMITED. Prints the account's budgets.",
}

func cmdUser(ctx context.Context, args []string, getenv envFunc, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, rest, fs, err := subcommand("user", args, "", userUsage, userSubUsage, stdout, stderr)
	if err != nil {
		return err
	}
	var admin, inactive *bool
	if sub == "create" {
		admin = fs.Bool("admin", false, "make the account an administrator")
		inactive = fs.Bool("inactive", false, "create the account disabled")
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	wantArgs := 1
	switch sub {
	case "list":
		wantArgs = 0
	case "budget":
		wantArgs = 3
	}
	if fs.NArg() != wantArgs {
		return usagef("user %s: want %d argument(s), got %d (see gadget user %s --help)", sub, wantArgs, fs.NArg(), sub)
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
		u, err := a.auth.CreateUser(ctx, name, pw, *admin, !*inactive) // create defines both flags
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
	case "budget":
		n, err := strconv.Atoi(fs.Arg(2))
		if err != nil {
			return usagef("user budget: PER_DAY must be a number, got %q", fs.Arg(2))
		}
		bs, err := a.budgets.Set(ctx, name, fs.Arg(1), n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "budgets of %s:\n", name)
		for _, b := range bs {
			fmt.Fprintf(stdout, "  %s: %d a day, %d left\n", b.Provider, b.PerDay, b.Remaining)
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
