package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/dataset"
	"github.com/inspector-gadget/gadget/ent/predicate"
	"github.com/inspector-gadget/gadget/internal/provider"
)

var _ provider.DatasetStore = (*Store)(nil)

func toDataset(r *ent.Dataset) provider.Dataset {
	d := provider.Dataset{Provider: r.Provider, Name: r.Name, Data: r.Data, Entries: r.Entries, Version: r.Version,
		DueAt: r.DueAt.UTC(), LastError: r.LastError}
	if r.FetchedAt != nil {
		d.FetchedAt = r.FetchedAt.UTC()
	}
	return d
}

// ClaimDataset implements provider.DatasetStore: the row is created due
// now when missing, then taken by one conditional UPDATE, so of replicas
// claiming at once exactly one wins.
func (s *Store) ClaimDataset(ctx context.Context, prov, name string, now, until time.Time) (bool, error) {
	err := s.client.Dataset.Create().SetProvider(prov).SetName(name).SetDueAt(ts(now)).
		OnConflictColumns(dataset.FieldProvider, dataset.FieldName).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("claim dataset %s/%s: %w", prov, name, err)
	}
	n, err := s.client.Dataset.Update().
		Where(dataset.Provider(prov), dataset.Name(name), dataset.DueAtLTE(ts(now))).
		SetDueAt(ts(until)).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("claim dataset %s/%s: %w", prov, name, err)
	}
	return n == 1, nil
}

// SaveDataset implements provider.DatasetStore.
func (s *Store) SaveDataset(ctx context.Context, d provider.Dataset) (int64, error) {
	where := []predicate.Dataset{dataset.Provider(d.Provider), dataset.Name(d.Name)}
	n, err := s.client.Dataset.Update().Where(where...).
		SetData(d.Data).SetEntries(d.Entries).SetFetchedAt(ts(d.FetchedAt)).SetDueAt(ts(d.DueAt)).
		AddVersion(1).SetLastError("").Save(ctx)
	if err == nil && n == 0 {
		err = s.client.Dataset.Create().SetProvider(d.Provider).SetName(d.Name).SetData(d.Data).SetEntries(d.Entries).
			SetFetchedAt(ts(d.FetchedAt)).SetDueAt(ts(d.DueAt)).SetVersion(1).Exec(ctx)
	}
	var version int64
	if err == nil {
		var v int
		v, err = s.client.Dataset.Query().Where(where...).Select(dataset.FieldVersion).Int(ctx)
		version = int64(v)
	}
	if err != nil {
		return 0, fmt.Errorf("save dataset %s/%s: %w", d.Provider, d.Name, err)
	}
	return version, nil
}

// FailDataset implements provider.DatasetStore.
func (s *Store) FailDataset(ctx context.Context, prov, name, msg string, retryAt time.Time) error {
	if r := []rune(msg); len(r) > 500 {
		msg = string(r[:500])
	}
	err := s.client.Dataset.Update().Where(dataset.Provider(prov), dataset.Name(name)).
		SetLastError(msg).SetDueAt(ts(retryAt)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("fail dataset %s/%s: %w", prov, name, err)
	}
	return nil
}

// Datasets implements provider.DatasetStore: every column but the data.
func (s *Store) Datasets(ctx context.Context, prov string) ([]provider.Dataset, error) {
	rows, err := s.client.Dataset.Query().Where(dataset.Provider(prov)).Order(ent.Asc(dataset.FieldName)).
		Select(dataset.FieldProvider, dataset.FieldName, dataset.FieldEntries, dataset.FieldFetchedAt, dataset.FieldVersion,
			dataset.FieldDueAt, dataset.FieldLastError).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("datasets of %s: %w", prov, err)
	}
	out := make([]provider.Dataset, len(rows))
	for i, r := range rows {
		out[i] = toDataset(r)
	}
	return out, nil
}

// LoadDataset implements provider.DatasetStore.
func (s *Store) LoadDataset(ctx context.Context, prov, name string) (*provider.Dataset, error) {
	r, err := s.client.Dataset.Query().Where(dataset.Provider(prov), dataset.Name(name)).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("load dataset %s/%s: %w", prov, name, err)
	}
	d := toDataset(r)
	return &d, nil
}
