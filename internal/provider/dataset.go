package provider

import (
	"context"
	"time"
)

// A local provider (Descriptor.Local) answers from data sets it downloads
// on a schedule (block lists, exit-node lists) instead of calling a service
// per lookup. It keeps them in a DatasetStore so that every replica loads
// what one of them downloaded, runs its schedule in Run (Runner) and
// reports each data set's age and size (DatasetReporter).

// Dataset is one downloaded data set as kept in the database.
type Dataset struct {
	Provider  string    // the provider's name, e.g. "feeds"
	Name      string    // the data set's name within the provider, e.g. "feodo"
	Data      []byte    // the provider's own encoding of the data (e.g. the gzipped download)
	Entries   int       // entries in it
	FetchedAt time.Time // when it was downloaded
	Version   int64     // bumped by every SaveDataset: replicas reload on change
	DueAt     time.Time // when it may next be claimed for a refresh
	LastError string    // the last refresh failure, "" after a success
}

// DatasetStore keeps a local provider's data sets. Claiming is a lease on
// the row: of all replicas, the one whose ClaimDataset succeeds refreshes
// the data set, and the others reload it when its Version changes.
type DatasetStore interface {
	// ClaimDataset creates the row of (provider, name) when missing and
	// takes it when its DueAt is not after now, moving DueAt to until;
	// false when another replica holds it or it is not due.
	ClaimDataset(ctx context.Context, provider, name string, now, until time.Time) (bool, error)
	// SaveDataset stores a refreshed data set (Data, Entries, FetchedAt,
	// DueAt), bumps its Version, clears LastError and returns the Version.
	SaveDataset(ctx context.Context, d Dataset) (int64, error)
	// FailDataset records a failed refresh and when to try again; the data
	// already stored stays.
	FailDataset(ctx context.Context, provider, name, msg string, retryAt time.Time) error
	// Datasets lists the provider's data sets without their Data.
	Datasets(ctx context.Context, provider string) ([]Dataset, error)
	// LoadDataset reads one data set with its Data.
	LoadDataset(ctx context.Context, provider, name string) (*Dataset, error)
}

// Runner is a live provider with background work (a local provider's
// refresh schedule). main runs it in the processes that answer lookups,
// until ctx ends.
type Runner interface {
	Run(ctx context.Context)
}

// DatasetStatus is one data set of a local provider as status shows it.
type DatasetStatus struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	URL     string `json:"url"` // where it is downloaded from
	Licence string `json:"licence"`
	Enabled bool   `json:"enabled"`
	Entries int    `json:"entries"`
	// FetchedAt is when the data in memory was downloaded; nil before the
	// first load.
	FetchedAt *time.Time `json:"fetched_at,omitempty"`
	// AgeSeconds is the age of that data; nil before the first load.
	AgeSeconds     *float64 `json:"age_seconds,omitempty"`
	RefreshSeconds float64  `json:"refresh_seconds"` // the refresh interval
	// Stale: older than twice its refresh interval, or never loaded.
	Stale bool   `json:"stale"`
	Error string `json:"error,omitempty"` // the last refresh failure
}

// DatasetReporter is a live provider that answers from local data sets.
type DatasetReporter interface {
	DatasetStatus(now time.Time) []DatasetStatus
}
