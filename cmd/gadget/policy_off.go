//go:build nopolicy

package main

// policyOff: this build leaves lists, TLP, playbooks and sightings off the
// lookup path, to measure what they cost (see policy_on.go).
const policyOff = true
