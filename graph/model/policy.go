package model

import (
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Sightings is the GraphQL Sightings: a value's rolled-up sightings and
// the value, for its recent sightings.
type Sightings struct {
	Count         int64         `json:"count"`
	DistinctUsers int64         `json:"distinctUsers"`
	FirstSeen     *time.Time    `json:"firstSeen"`
	LastSeen      *time.Time    `json:"lastSeen"`
	LastVerdict   *VerdictLevel `json:"lastVerdict"`
	Summary       string        `json:"summary"`
	Manual        *SightingNote `json:"manual"`
	Of            indicator.Indicator
}

// List is the GraphQL List: a list's fields; entries has a resolver.
type List struct {
	Name        string     `json:"name"`
	Effect      ListEffect `json:"effect"`
	Description string     `json:"description"`
	Owner       string     `json:"owner"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	Size        int64      `json:"size"`
}
