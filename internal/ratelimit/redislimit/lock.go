package redislimit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/redisguard"
)

// unlockTimeout bounds an unlock, which runs even after the caller's
// context has ended.
const unlockTimeout = 5 * time.Second

// Locker hands one process at a time the right to call upstream for a key:
// a lock is a Redis key prefix+key holding a random token, set with SET NX
// PX, so that it frees itself when its holder dies.
type Locker struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLocker returns a Redis locker under prefix.
func NewLocker(rdb redis.UniversalClient, prefix string) *Locker {
	return &Locker{rdb: rdb, prefix: prefix}
}

// unlockScript deletes KEYS[1] only while it holds our token ARGV[1].
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// TryLock takes key for at most ttl (rounded up to a millisecond) and
// returns ok=true with the function that releases it; ok=false when
// another holder has it. unlock deletes the lock only while it is still
// ours, so a holder whose lock expired and was taken by another cannot
// release the other's; it may be called more than once, and works after
// ctx has ended. A non-positive ttl is an error: a lock without expiry
// would outlive a crashed holder.
//
// While a redisguard.Guard has Redis marked down (redisguard.ErrUnavailable)
// the lock is granted without Redis: calls are then coalesced within the
// process only (the engine's single flight), and no caller waits for an
// answer that would have to come through Redis.
func (l *Locker) TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error) {
	if ttl <= 0 {
		return nil, false, errors.New("redis lock " + key + ": the ttl must be positive")
	}
	k := l.prefix + key
	token := rand.Text()
	ok, err = l.rdb.SetNX(ctx, k, token, max(ttl, time.Millisecond)).Result()
	if errors.Is(err, redisguard.ErrUnavailable) {
		return func() {}, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis lock %s: %w", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
			defer cancel()
			// If the delete fails the lock still expires after ttl.
			_ = unlockScript.Run(ctx, l.rdb, []string{k}, token).Err()
		})
	}
	return unlock, true, nil
}
