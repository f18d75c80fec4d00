package indicator

import (
	"fmt"
	"strings"
)

// TLP is a Traffic Light Protocol 2.0 label (FIRST, 2022): how far a value
// may be shared. The labels are ordered from the most to the least
// shareable, so a provider with maximum m may see a lookup at t when
// t <= m. The zero TLP is "not given" (the configured default applies),
// never "anything goes".
type TLP uint8

// The TLP 2.0 labels, most shareable first.
const (
	TLPClear       TLP = iota + 1 // may be shared publicly
	TLPGreen                      // the community, not public
	TLPAmber                      // the organisation and its clients, need to know
	TLPAmberStrict                // the organisation only
	TLPRed                        // the named recipients only: nothing leaves
)

// TLPs are the labels in order, most shareable first.
var TLPs = []TLP{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

// String is the label's enum name: "CLEAR", "GREEN", "AMBER",
// "AMBER_STRICT", "RED"; "" for the zero TLP.
func (t TLP) String() string {
	switch t {
	case TLPClear:
		return "CLEAR"
	case TLPGreen:
		return "GREEN"
	case TLPAmber:
		return "AMBER"
	case TLPAmberStrict:
		return "AMBER_STRICT"
	case TLPRed:
		return "RED"
	}
	return ""
}

// Label is the label as TLP 2.0 writes it: "TLP:AMBER+STRICT".
func (t TLP) Label() string {
	if t == 0 {
		return ""
	}
	return "TLP:" + strings.ReplaceAll(t.String(), "_", "+")
}

// ParseTLP reads a label: the enum names (CLEAR, GREEN, AMBER,
// AMBER_STRICT, RED) in any case, with or without a "TLP:" prefix, with
// "+" or "-" for the underscore, and TLP 1.0's WHITE as CLEAR. Anything
// else is an error naming the accepted labels.
func ParseTLP(s string) (TLP, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	n = strings.TrimPrefix(n, "TLP:")
	n = strings.NewReplacer("+", "_", "-", "_", " ", "_").Replace(n)
	if n == "WHITE" {
		return TLPClear, nil
	}
	for _, t := range TLPs {
		if t.String() == n {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown TLP %q: use one of CLEAR, GREEN, AMBER, AMBER_STRICT, RED", truncate(s, 40))
}
