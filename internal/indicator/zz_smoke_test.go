package indicator_test

import (
	"fmt"
	"testing"

	"golang.org/x/net/publicsuffix"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func TestZZSmoke(t *testing.T) {
	x := indicator.Extractor{Policy: indicator.NewPolicy(nil), PublicSuffix: publicsuffix.PublicSuffix}
	text := `EDR alert: C2 203.0.113.45:443 beacon, dropped C:\Users\bob\AppData\inv.exe md5=44d88612fea8a8f36de82e1278abb02f
hash:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f src_ip=10.1.2.3 dst=198.51.100.7
url=hxxps://evil[.]example/pay?x=1 evil[.]example:8443 attacker@evil[.]example www.evil.example/path/x.php
Also [2001:db8::1]:443 and fxp://files.evil.example/a and user [at] phish(.)example.com, invoice.zip, report.pdf
version 1.2.3.4, Chrome/120.1.2.3, OID 1.3.6.1.4.1.311, 2001:db8::5, https://t.example.com/r?u=https%3A%2F%2Fbad.example%2Fx&y=2
System.Net.WebClient process.name: x "kibana.alert.rule.name": "x" done.It evil\.example\.org 203.0.113.0/24 010.1.1.1
IMPHASH=AAD88612FEA8A8F36DE82E1278ABB02F sample_3395856ce81f2b7382dee72602f798b642f14140.bin`
	ex, err := x.Extract(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ex.Indicators {
		fmt.Printf("%-7s %-60s raw=%q spans=%v ctx=%v\n", f.Kind, f.Value, f.Raw, f.Spans, f.Context)
	}
	for _, f := range ex.Internal {
		fmt.Printf("INTERNAL %s %s\n", f.Value, f.Reason)
	}
	for _, f := range ex.Ignored {
		fmt.Printf("IGNORED %q %s\n", f.Text, f.Reason)
	}
}
