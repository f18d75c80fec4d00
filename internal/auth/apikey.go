package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// APIKeyPrefix starts every API key, so that a key is told from a JWT at a
// glance (and by secret scanners).
const APIKeyPrefix = "igk_"

// apiKeyBytes is the key's entropy: 32 random bytes (256 bits). With that
// much entropy a plain SHA-256 is a safe stored form, and checking a key
// costs a hash, not a bcrypt.
const apiKeyBytes = 32

// MaxAPIKeysPerUser bounds how many live keys one account may hold.
const MaxAPIKeysPerUser = 50

// lastUsedEvery is how often a key's last use is written back: at most
// once a minute per key and process, never on every request.
const lastUsedEvery = time.Minute

// APIKey is a per-user API key as stored: never the key itself.
type APIKey struct {
	ID         uuid.UUID
	Username   string
	Name       string
	Hash       string // hex SHA-256 of the key
	Prefix     string // the key's first characters, to tell keys apart
	Scopes     []Scope
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// NewAPIKey is a freshly created key: the key itself, shown once, and its
// record.
type NewAPIKey struct {
	Key    string
	APIKey *APIKey
}

// Store errors for API keys.
var ErrAPIKeyNotFound = errors.New("api key not found")

// APIKeyStore is the storage the API key methods need.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k APIKey) (*APIKey, error)
	// APIKeyByHash returns the live (not revoked) key of that hash.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// APIKeys returns username's live keys, newest first.
	APIKeys(ctx context.Context, username string) ([]*APIKey, error)
	// RevokeAPIKey marks username's key id revoked; ErrAPIKeyNotFound when
	// username holds no such live key.
	RevokeAPIKey(ctx context.Context, username string, id uuid.UUID, at time.Time) error
	TouchAPIKey(ctx context.Context, id uuid.UUID, at time.Time) error
}

// HashAPIKey is the stored form of key: hex SHA-256.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// IsAPIKey reports whether s has the form of an API key (it may still be
// unknown or revoked).
func IsAPIKey(s string) bool {
	return strings.HasPrefix(s, APIKeyPrefix) && len(s) == len(APIKeyPrefix)+base64.RawURLEncoding.EncodedLen(apiKeyBytes)
}

// CreateAPIKey creates a key for p's account named name, granting scopes
// (within what the account is allowed; none: all it is allowed). The key is
// returned once and never again.
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, name string, scopes []Scope) (*NewAPIKey, error) {
	if s.keys == nil {
		return nil, errcode.New(errcode.Internal, "api keys are not configured")
	}
	if p.APIKeyID != "" {
		return nil, errcodeForbidden("an API key cannot create API keys: sign in with your password for that")
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, errcode.Field("name", "name must be 1 to 64 printable characters")
	}
	allowed := AllowedScopes(p.Admin)
	for _, sc := range scopes {
		if !contains(allowed, sc) {
			return nil, errcode.Field("scopes", "this account may not grant the "+string(sc)+" scope")
		}
	}
	granted := GrantScopes(scopes, allowed)
	live, err := s.keys.APIKeys(ctx, p.Username)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	if len(live) >= MaxAPIKeysPerUser {
		return nil, errcode.Field("name", "this account already holds the maximum number of API keys; revoke one first")
	}
	for _, k := range live {
		if k.Name == name {
			return nil, &errcode.Error{Code: errcode.Conflict, Field: "name", Message: "an API key of that name exists"}
		}
	}
	b := make([]byte, apiKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, errcode.Wrap(err)
	}
	key := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	rec, err := s.keys.CreateAPIKey(ctx, APIKey{Username: p.Username, Name: name, Hash: HashAPIKey(key),
		Prefix: key[:len(APIKeyPrefix)+4], Scopes: granted, CreatedAt: s.now()})
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return &NewAPIKey{Key: key, APIKey: rec}, nil
}

// APIKeys lists p's live keys.
func (s *Service) APIKeys(ctx context.Context, p *Principal) ([]*APIKey, error) {
	if s.keys == nil {
		return nil, nil
	}
	ks, err := s.keys.APIKeys(ctx, p.Username)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return ks, nil
}

// RevokeAPIKey revokes one of p's keys. It stops working at once in this
// process and, through the account events, in the others.
func (s *Service) RevokeAPIKey(ctx context.Context, p *Principal, id string) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return errcode.Field("id", "id is not an API key id")
	}
	if s.keys == nil {
		return &errcode.Error{Code: errcode.NotFound, Field: "id", Message: "no such API key"}
	}
	defer s.changed(ctx, p.Username)
	err = s.keys.RevokeAPIKey(ctx, p.Username, uid, s.now())
	if errors.Is(err, ErrAPIKeyNotFound) {
		return &errcode.Error{Code: errcode.NotFound, Field: "id", Message: "no such API key"}
	}
	if err != nil {
		return errcode.Wrap(err)
	}
	return nil
}

var errBadAPIKey = errcode.New(errcode.Unauthenticated, "invalid or revoked API key")

// AuthenticateKey verifies an API key: it must be live, and its account
// must exist and be active. The scopes are the key's, less any the account
// is no longer allowed. A verified key costs a SHA-256 and two map reads.
func (s *Service) AuthenticateKey(ctx context.Context, key string) (*Principal, error) {
	if s.keys == nil || !IsAPIKey(key) {
		return nil, errBadAPIKey
	}
	k, err := s.keyCache.get(HashAPIKey(key), func(hash string) (*APIKey, error) { return s.keys.APIKeyByHash(ctx, hash) })
	if errors.Is(err, ErrAPIKeyNotFound) {
		return nil, errBadAPIKey
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	u, err := s.account(ctx, k.Username)
	if errors.Is(err, ErrUserNotFound) {
		return nil, errBadAPIKey
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	if !u.Active {
		return nil, errcode.New(errcode.Unauthenticated, "account is disabled")
	}
	s.touch(ctx, k)
	return &Principal{UserID: u.ID, Username: u.Username, Admin: u.Admin,
		Scopes: GrantScopes(k.Scopes, AllowedScopes(u.Admin)), TokenID: "key:" + k.ID.String(), APIKeyID: k.ID.String()}, nil
}

// touch writes a key's last use, at most once a minute per key, in the
// background: the request does not wait for it.
func (s *Service) touch(ctx context.Context, k *APIKey) {
	now := s.now()
	if !s.keyCache.due(k.ID, now) {
		return
	}
	go func() {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.keys.TouchAPIKey(tctx, k.ID, now); err != nil {
			s.log.WarnContext(tctx, "api key last use not recorded", "api_key_id", k.ID.String(), "err", err)
		}
	}()
}

// keyCache keeps verified keys by hash. An entry is dropped when its
// account changes (a revocation is published as one), so a revoked key
// stops working in every process as soon as the notice arrives; while the
// account events are not connected the cache is off (like accountCache).
type keyCache struct {
	on    func() bool
	mu    sync.Mutex
	epoch uint64
	m     map[string]*APIKey
	used  map[uuid.UUID]time.Time
}

func newKeyCache(on func() bool) *keyCache {
	return &keyCache{on: on, m: map[string]*APIKey{}, used: map[uuid.UUID]time.Time{}}
}

func (c *keyCache) get(hash string, load func(string) (*APIKey, error)) (*APIKey, error) {
	if !c.on() {
		return load(hash)
	}
	c.mu.Lock()
	k, ok := c.m[hash]
	epoch := c.epoch
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := load(hash)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch == epoch && c.on() {
		if len(c.m) >= maxCachedAccounts {
			clear(c.m)
		}
		c.m[hash] = k
	}
	return k, nil
}

// due reports whether key id's last use should be written now, and notes
// that it is.
func (c *keyCache) due(id uuid.UUID, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.used[id]; ok && now.Sub(t) < lastUsedEvery {
		return false
	}
	if len(c.used) >= maxCachedAccounts {
		clear(c.used)
	}
	c.used[id] = now
	return true
}

// drop forgets username's keys.
func (c *keyCache) drop(username string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for h, k := range c.m {
		if k.Username == username {
			delete(c.m, h)
		}
	}
}

func (c *keyCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.m)
}
