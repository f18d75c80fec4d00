package indicator_test

import (
	"fmt"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Parse analyst input, then ask the policy whether it may be sent to
// external services.
func Example() {
	policy := indicator.NewPolicy([]string{".example.corp"})
	for _, in := range []string{
		"hxxps://Evil[.]example/login#top",
		"<203.0.113.7>",
		"bücher.example",
		"10.1.2.3",
		"wiki.example.corp",
		"010.1.2.3",
		"D41D8CD98F00B204E9800998ECF8427E",
	} {
		ind, err := indicator.Parse(in)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if err := policy.Check(ind); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println("look up", ind)
	}
	// Output:
	// look up url:https://evil.example/login
	// look up ipv4:203.0.113.7
	// look up domain:xn--bcher-kva.example
	// blocked by policy: ipv4 "10.1.2.3": private address (RFC 1918)
	// blocked by policy: domain "wiki.example.corp": internal domain (.corp)
	// invalid indicator "010.1.2.3": ipv4 octet "010" has a leading zero, which is ambiguous (octal or decimal)
	// look up md5:d41d8cd98f00b204e9800998ecf8427e
}
