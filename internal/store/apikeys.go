package store

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/apikey"
	"github.com/inspector-gadget/gadget/internal/auth"
)

var _ auth.APIKeyStore = (*Store)(nil)

func toAPIKey(k *ent.APIKey) *auth.APIKey {
	scopes, _ := auth.ParseScopes(k.Scopes)
	out := &auth.APIKey{ID: k.ID, Username: k.Username, Name: k.Name, Hash: k.Hash, Prefix: k.Prefix, Scopes: scopes,
		CreatedAt: k.CreatedAt.UTC()}
	if k.LastUsedAt != nil {
		t := k.LastUsedAt.UTC()
		out.LastUsedAt = &t
	}
	if k.RevokedAt != nil {
		t := k.RevokedAt.UTC()
		out.RevokedAt = &t
	}
	return out
}

// CreateAPIKey stores a new API key (its hash, never the key).
func (s *Store) CreateAPIKey(ctx context.Context, k auth.APIKey) (*auth.APIKey, error) {
	at := k.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	row, err := s.client.APIKey.Create().SetUsername(k.Username).SetName(k.Name).SetHash(k.Hash).SetPrefix(k.Prefix).
		SetScopes(auth.JoinScopes(k.Scopes)).SetCreatedAt(ts(at)).Save(ctx)
	if err != nil {
		return nil, err
	}
	return toAPIKey(row), nil
}

// APIKeyByHash returns the live key of that hash; auth.ErrAPIKeyNotFound
// when there is none (or it is revoked).
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*auth.APIKey, error) {
	k, err := s.client.APIKey.Query().Where(apikey.Hash(hash), apikey.RevokedAtIsNil()).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, auth.ErrAPIKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	return toAPIKey(k), nil
}

// APIKeys returns username's live keys, newest first.
func (s *Store) APIKeys(ctx context.Context, username string) ([]*auth.APIKey, error) {
	ks, err := s.client.APIKey.Query().Where(apikey.Username(username), apikey.RevokedAtIsNil()).
		Order(ent.Desc(apikey.FieldCreatedAt)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*auth.APIKey, len(ks))
	for i, k := range ks {
		out[i] = toAPIKey(k)
	}
	return out, nil
}

// RevokeAPIKey marks username's live key id revoked.
func (s *Store) RevokeAPIKey(ctx context.Context, username string, id uuid.UUID, at time.Time) error {
	n, err := s.client.APIKey.Update().Where(apikey.ID(id), apikey.Username(username), apikey.RevokedAtIsNil()).
		SetRevokedAt(ts(at)).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.ErrAPIKeyNotFound
	}
	return nil
}

// TouchAPIKey records a key's last use.
func (s *Store) TouchAPIKey(ctx context.Context, id uuid.UUID, at time.Time) error {
	return s.client.APIKey.UpdateOneID(id).SetLastUsedAt(ts(at)).Exec(ctx)
}
