//go:build !nopolicy

package main

// policyOff is true only in a build with -tags nopolicy: the baseline of
// the policy benchmark (loadgen -baseline-tags nopolicy), with no lists,
// TLP, playbooks or sightings on the lookup path.
const policyOff = false
