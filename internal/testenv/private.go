package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Private servers are a test's own redis-server and PostgreSQL cluster, on
// free ports, which the test may kill and restart (fault tests) without
// disturbing the shared servers other tests and developers use. They are
// stopped when the test ends.

// freePort returns a TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// PrivateRedis is a redis-server of the test's own (no persistence).
type PrivateRedis struct {
	t    testing.TB
	Port int
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server (from PATH) and waits until it
// answers. The test fails if redis-server is missing.
func StartRedis(t testing.TB) *PrivateRedis {
	t.Helper()
	r := &PrivateRedis{t: t, Port: freePort(t), dir: t.TempDir()}
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// URL is the server's redis:// URL (database 0).
func (r *PrivateRedis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Start (re)starts the server on its port and waits until it answers.
func (r *PrivateRedis) Start() {
	r.t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		r.t.Fatalf("redis-server is needed for a private Redis: %v", err)
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
	opt, _ := redis.ParseURL(r.URL())
	c := redis.NewClient(opt)
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("private redis-server on %d does not answer: %v", r.Port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server with SIGKILL (as a crash or an OOM kill would) and
// waits for it to exit. Killing a stopped server does nothing.
func (r *PrivateRedis) Kill() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_, _ = cmd.Process.Wait()
}

// pgBin is where Debian installs the PostgreSQL server binaries.
var pgBin = []string{"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"}

// PrivatePostgres is a PostgreSQL cluster of the test's own, made with
// initdb in a temporary folder (fsync off: a test cluster).
type PrivatePostgres struct {
	t    testing.TB
	Port int
	dir  string
	bin  string
}

// StartPostgres makes and starts a private cluster; the test fails if the
// server binaries are missing. As root the server runs as the postgres
// user (initdb refuses root).
func StartPostgres(t testing.TB) *PrivatePostgres {
	t.Helper()
	p := &PrivatePostgres{t: t, Port: freePort(t)}
	for _, d := range pgBin {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			p.bin = d
			break
		}
	}
	if p.bin == "" {
		t.Fatalf("the PostgreSQL server binaries (initdb, pg_ctl) are needed for a private cluster; looked in %v", pgBin)
	}
	dir, err := os.MkdirTemp("", "gadget-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() {
		p.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, a private cluster needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := p.command(filepath.Join(p.bin, "initdb"), "-D", p.data(), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start()
	return p
}

func (p *PrivatePostgres) data() string { return filepath.Join(p.dir, "data") }

// command runs name as the postgres user when this process is root.
func (p *PrivatePostgres) command(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func (p *PrivatePostgres) pgctl(args ...string) ([]byte, error) {
	all := append([]string{"-D", p.data(), "-w", "-t", "60"}, args...)
	return p.command(filepath.Join(p.bin, "pg_ctl"), all...).CombinedOutput()
}

// URL is the server's postgres:// URL for database postgres.
func (p *PrivatePostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
}

// Start starts the cluster and waits until it accepts connections.
func (p *PrivatePostgres) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60", p.Port, p.dir)
	if out, err := p.pgctl("start", "-l", filepath.Join(p.dir, "log"), "-o", opts); err != nil {
		p.t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
	p.wait()
}

// Restart stops the server the way mode says ("fast": clients are
// disconnected, as in an orchestrated restart; "immediate": as a crash,
// recovery on start) and starts it again.
func (p *PrivatePostgres) Restart(mode string) {
	p.t.Helper()
	if out, err := p.pgctl("stop", "-m", mode); err != nil {
		p.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	p.Start()
}

func (p *PrivatePostgres) wait() {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, p.URL())
		if err == nil {
			c.Close(ctx)
			cancel()
			return
		}
		cancel()
		if time.Now().After(deadline) {
			p.t.Fatalf("private PostgreSQL on %d does not answer: %v", p.Port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
