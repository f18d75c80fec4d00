// Package graph is the GraphQL transport: thin resolvers over the services,
// the @hasScope directive, the error presenter and the query limits.
package graph

//go:generate go tool gqlgen generate

import (
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// Resolver is the dependency root of the resolvers.
type Resolver struct {
	Auth        *auth.Service
	Accounting  *accounting.Service
	StatusInfo  StatusSource
	Engine      lookup.Service
	Policy      *policy.Service     // lists, playbooks, sightings, TLP; nil: not configured
	Extractor   indicator.Extractor // finds indicators in pasted text (extract)
	STIX        soc.Exporter        // the stix field
	UserBudgets *userbudget.Budgets // per-user daily budgets; nil: none can be set
}

// StatusSource answers the public status query.
type StatusSource interface {
	Version() string
	Uptime() time.Duration
	Providers() []lookup.ProviderStatus
}
