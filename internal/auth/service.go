// Package auth holds passwords, tokens, scopes, the principal in the request
// context, the HTTP middleware, and the account service used by every
// transport.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"golang.org/x/crypto/bcrypt"
)

// Recorder takes usage records; the accounting writer implements it.
type Recorder interface {
	Record(ctx context.Context, r accounting.Record)
}

// Config wires a Service.
type Config struct {
	Store    UserStore
	Tokens   *Tokens
	Throttle Throttle
	// UserAddressAttempts and AddressAttempts are the sign-in limits per
	// throttle window (defaults UserAddressAttempts, AddressAttempts).
	UserAddressAttempts, AddressAttempts int
	Usage                                Recorder
	Logger                               *slog.Logger
	Now                                  func() time.Time
	OnLogin                              func(outcome string) // metrics hook: "ok", "denied", "throttled"
	// BcryptCost is the work factor of new hashes (default 12, at least 10).
	BcryptCost int
	// Events carries account changes between processes sharing the
	// database; verified accounts are kept in memory until a change to them
	// is seen. Nil: this process is the only one that changes accounts.
	// Service.Listen must run for changes made elsewhere to be seen.
	Events AccountEvents
	// AccountMaxAge, when positive, also limits how long an account read is
	// trusted: a safety net should a change notice be lost, not the means
	// of consistency (0: no limit).
	AccountMaxAge time.Duration
	// Keys stores per-user API keys; nil: API keys are off.
	Keys APIKeyStore
}

// Service is the account service: sign-in, token verification and user
// management. Every transport calls it; none repeats its rules.
type Service struct {
	store    UserStore
	tokens   *Tokens
	throttle Throttle
	usage    Recorder
	log      *slog.Logger
	now      func() time.Time
	onLogin  func(outcome string)
	cost     int
	// dummy is the hash compared against when a username does not exist, so
	// a failed sign-in takes as long whether or not the account exists; it
	// is made on first use (or by WarmUp), not by every CLI command.
	dummy    func() string
	events   AccountEvents
	accounts *accountCache
	claims   *tokenCache
	keys     APIKeyStore
	keyCache *keyCache
	// bcryptSlots bounds concurrent password checks (BcryptConcurrency)
	bcryptSlots chan struct{}
	attempts    [2]int // per (username, address), per address
}

// NewService returns a Service.
func NewService(c Config) (*Service, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.OnLogin == nil {
		c.OnLogin = func(string) {}
	}
	if c.UserAddressAttempts <= 0 {
		c.UserAddressAttempts = UserAddressAttempts
	}
	if c.AddressAttempts <= 0 {
		c.AddressAttempts = AddressAttempts
	}
	if c.BcryptCost < MinBcryptCost {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d is above %d", c.BcryptCost, bcrypt.MaxCost)
	}
	cost := c.BcryptCost
	dummy := sync.OnceValue(func() string {
		// cannot fail: the input is short and the cost within bcrypt's range
		h, _ := generate([]byte("timing-equaliser-not-a-password"), cost)
		return string(h)
	})
	s := &Service{store: c.Store, tokens: c.Tokens, throttle: c.Throttle, usage: c.Usage, log: c.Logger, now: c.Now,
		onLogin: c.OnLogin, cost: c.BcryptCost, dummy: dummy, events: c.Events,
		// with Events, the cache is off until Listen is connected
		accounts: newAccountCache(c.AccountMaxAge, c.Now, c.Events == nil),
		claims:   &tokenCache{now: c.Now, m: map[string]*Claims{}}, keys: c.Keys,
		bcryptSlots: make(chan struct{}, BcryptConcurrency), attempts: [2]int{c.UserAddressAttempts, c.AddressAttempts}}
	s.keyCache = newKeyCache(s.accounts.on.Load)
	return s, nil
}

// BcryptConcurrency bounds the password checks running at once in this
// process (each is ~50-300 ms of one core): a flood of sign-ins from many
// addresses queues here instead of taking every core from lookups.
var BcryptConcurrency = max(2, runtime.GOMAXPROCS(0))

// bcryptQueueWait is how long a sign-in waits for a password-check slot
// before it is refused with 429.
const bcryptQueueWait = 5 * time.Second

// WarmUp makes the hash unknown usernames are checked against, in the
// background, so that the first failed sign-in after start takes no
// longer than later ones.
func (s *Service) WarmUp() { go s.dummy() }

// checkPassword compares under the concurrency bound.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	t := time.NewTimer(bcryptQueueWait)
	defer t.Stop()
	select {
	case s.bcryptSlots <- struct{}{}:
	case <-t.C:
		return false, &errcode.Error{Code: errcode.RateLimited, Message: "too many sign-ins at once; try again shortly", RetryAfter: time.Second}
	case <-ctx.Done():
		return false, errcode.Wrap(ctx.Err())
	}
	defer func() { <-s.bcryptSlots }()
	return CheckPassword(hash, password), nil
}

// Token is the answer to a successful sign-in.
type Token struct {
	AccessToken string
	ExpiresIn   int64 // seconds
	Scopes      []Scope
	ExpiresAt   time.Time
}

// errBadCredentials is the one answer to every refused sign-in, so the answer
// never tells whether the username exists or the account is disabled.
var errBadCredentials = errcode.New(errcode.Unauthenticated, "Incorrect username or password")

// Login checks credentials and issues a token with the requested scopes that
// the account is allowed (all allowed ones when scope is empty).
func (s *Service) Login(ctx context.Context, username, password, scope string) (*Token, error) {
	switch {
	case username == "":
		return nil, errcode.Field("username", "username is required")
	case len(username) > 64 || !utf8.ValidString(username) || strings.ContainsRune(username, 0):
		return nil, errcode.Field("username", "username must be valid UTF-8 of at most 64 bytes, without NUL")
	case password == "":
		return nil, errcode.Field("password", "password is required")
	case len(password) > 1024:
		return nil, errcode.Field("password", "password is too long")
	}
	requested, err := ParseScopes(scope)
	if err != nil {
		return nil, err
	}
	info := clientinfo.From(ctx)
	// count the attempt first, for the (username, address) and the address
	// alone; a refused attempt counts nowhere
	type taken struct{ key, id string }
	var counted []taken
	forgive := func() {
		for _, c := range counted {
			if err := s.throttle.Forgive(ctx, c.key, c.id); err != nil {
				s.log.ErrorContext(ctx, "login throttle", "err", err)
			}
		}
	}
	for _, k := range []struct {
		key   string
		limit int
	}{{"ua:" + strings.ToLower(username) + "\x00" + info.IP, s.attempts[0]}, {"ip:" + info.IP, s.attempts[1]}} {
		id, wait, err := s.throttle.Take(ctx, k.key, k.limit)
		if err != nil {
			forgive()
			return nil, errcode.Wrap(err)
		}
		if wait > 0 {
			forgive()
			s.recordLogin(ctx, username, "throttled")
			return nil, &errcode.Error{Code: errcode.RateLimited, Message: "too many failed sign-ins; try again later", RetryAfter: wait}
		}
		counted = append(counted, taken{k.key, id})
	}
	u, err := s.store.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		forgive()
		return nil, errcode.Wrap(err)
	}
	var hash string
	if u != nil {
		hash = u.PasswordHash
	} else {
		hash = s.dummy() // same cost whether or not the account exists
	}
	ok, err := s.checkPassword(ctx, hash, password)
	if err != nil {
		forgive()
		return nil, err
	}
	if !ok || u == nil || !u.Active {
		s.recordLogin(ctx, username, "denied")
		return nil, errBadCredentials
	}
	forgive()
	granted := GrantScopes(requested, AllowedScopes(u.Admin))
	if len(granted) == 0 {
		return nil, errcode.Field("scope", "none of the requested scopes is allowed for this account")
	}
	tok, claims, err := s.tokens.Issue(u, granted)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	if err := s.store.RecordLogin(ctx, u.Username, Login{At: s.now(), IP: info.IP, UserAgent: info.UserAgent}); err != nil {
		return nil, errcode.Wrap(err)
	}
	s.recordLogin(ctx, u.Username, "ok")
	return &Token{AccessToken: tok, ExpiresIn: int64(s.tokens.TTL() / time.Second), Scopes: granted, ExpiresAt: claims.ExpiresAt.Time}, nil
}

func (s *Service) recordLogin(ctx context.Context, username, status string) {
	s.onLogin(status)
	params, _ := json.Marshal(map[string]string{"username": username, "status": status})
	s.record(ctx, username, "authenticate", string(params), status)
}

func (s *Service) record(ctx context.Context, username, api, params, status string) {
	if s.usage == nil {
		return
	}
	info := clientinfo.From(ctx)
	s.usage.Record(ctx, accounting.Record{
		Username: username, API: api, Endpoint: info.Method + " " + info.Path, Parameters: params,
		UserAgent: info.UserAgent, IP: info.IP, Status: status, At: s.now(),
	})
}

// Authenticate verifies a bearer token and re-checks the account: it must
// exist, be active, and have had no password change since the token was
// issued. Scopes the account is no longer allowed are dropped.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	c, err := s.verify(token)
	if err != nil {
		return nil, errcode.New(errcode.Unauthenticated, "invalid or expired token")
	}
	u, err := s.account(ctx, c.Subject)
	if errors.Is(err, ErrUserNotFound) {
		return nil, errcode.New(errcode.Unauthenticated, "invalid or expired token")
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	if !u.Active {
		return nil, errcode.New(errcode.Unauthenticated, "account is disabled")
	}
	if passwordStamp(u.PasswordChangedAt) != c.PwC {
		return nil, errcode.New(errcode.Unauthenticated, "token was issued before a password change or a disable; sign in again")
	}
	return &Principal{
		UserID: u.ID, Username: u.Username, Admin: u.Admin,
		Scopes: GrantScopes(c.Scopes, AllowedScopes(u.Admin)), TokenID: c.ID, ExpiresAt: c.ExpiresAt.Time,
	}, nil
}

// Me returns the caller's account.
func (s *Service) Me(ctx context.Context, p *Principal) (*User, error) {
	return s.User(ctx, p.Username)
}

// User returns one account.
func (s *Service) User(ctx context.Context, username string) (*User, error) {
	u, err := s.store.UserByUsername(ctx, username)
	if errors.Is(err, ErrUserNotFound) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "username", Message: "no such user"}
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return u, nil
}

// ListUsers returns every account.
func (s *Service) ListUsers(ctx context.Context) ([]*User, error) {
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return us, nil
}

// ValidateUsername checks a new username: 1–64 characters of letters,
// digits, '.', '_', '-' and '@'.
func ValidateUsername(name string) error {
	if name == "" || len(name) > 64 {
		return errcode.Field("username", "username must be 1 to 64 characters")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)
		if !ok {
			return errcode.Field("username", "username may hold only letters, digits and . _ - @")
		}
	}
	return nil
}

// CreateUser creates an account.
func (s *Service) CreateUser(ctx context.Context, username, password string, admin, active bool) (*User, error) {
	if err := ValidateUsername(username); err != nil {
		return nil, err
	}
	hash, err := HashPassword("password", password, s.cost)
	if err != nil {
		return nil, err
	}
	u, err := s.store.CreateUser(ctx, NewUser{Username: username, PasswordHash: hash, Admin: admin, Active: active, CreatedAt: s.now()})
	if errors.Is(err, ErrUserExists) {
		return nil, &errcode.Error{Code: errcode.Conflict, Field: "username", Message: "username already exists"}
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return u, nil
}

// SetUserPassword sets another account's password (an administrator's
// reset). Tokens issued before are invalid from now on.
func (s *Service) SetUserPassword(ctx context.Context, username, password string) (*User, error) {
	hash, err := HashPassword("password", password, s.cost)
	if err != nil {
		return nil, err
	}
	return s.setPassword(ctx, username, hash)
}

func (s *Service) setPassword(ctx context.Context, username, hash string) (*User, error) {
	defer s.changed(ctx, username)
	u, err := s.store.SetPassword(ctx, username, hash, s.now())
	if errors.Is(err, ErrUserNotFound) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "username", Message: "no such user"}
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return u, nil
}

// ChangePassword changes the caller's own password after checking the
// current one.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string) error {
	u, err := s.User(ctx, p.Username)
	if err != nil {
		return err
	}
	if !CheckPassword(u.PasswordHash, current) {
		return errcode.Field("current", "current password is wrong")
	}
	if current == next {
		return errcode.Field("new", "new password must differ from the current one")
	}
	hash, err := HashPassword("new", next, s.cost)
	if err != nil {
		return err
	}
	_, err = s.setPassword(ctx, p.Username, hash)
	return err
}

// SetUserActive enables or disables an account. An administrator cannot
// disable their own account, nor the last other active administrator. A
// disable ends the account's tokens for good: a re-enable does not revive
// them.
func (s *Service) SetUserActive(ctx context.Context, p *Principal, username string, active bool) (*User, error) {
	if !active && p != nil && strings.EqualFold(p.Username, username) {
		return nil, errcode.Field("username", "you cannot disable your own account")
	}
	defer s.changed(ctx, username)
	u, err := s.store.SetActive(ctx, username, active)
	if errors.Is(err, ErrUserNotFound) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "username", Message: "no such user"}
	}
	if errors.Is(err, ErrLastAdmin) {
		return nil, &errcode.Error{Code: errcode.Conflict, Field: "username", Message: "at least one active administrator must remain"}
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return u, nil
}

// RootUsername is the bootstrap administrator.
const RootUsername = "root"

// Bootstrap creates the root administrator on an empty database, with
// password, or with a random strong password returned to be shown once.
// It does nothing when any account exists.
func (s *Service) Bootstrap(ctx context.Context, password string) (created bool, generated string, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	if password == "" {
		generated, err = RandomPassword(24)
		if err != nil {
			return false, "", err
		}
		password = generated
	}
	_, err = s.CreateUser(ctx, RootUsername, password, true, true)
	if errcode.CodeOf(err) == errcode.Conflict {
		return false, "", nil // another process bootstrapped first
	}
	if err != nil {
		return false, "", err
	}
	return true, generated, nil
}

// RandomPassword returns n characters from a 62-letter alphabet drawn with
// crypto/rand (24 characters ≈ 143 bits).
func RandomPassword(n int) (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.+"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
