package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/metrics"
	"github.com/agent-bridge/agent-bridge/internal/redact"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// bridgeDeps is what a command needs to reach the service.
type bridgeDeps struct {
	db      database
	svc     *bridge.Service
	metrics *metrics.Metrics // HTTP nodes only
}

// Close writes what the service still holds (the journal of read-only
// calls), then closes the database.
func (d bridgeDeps) Close() error {
	var err error
	if d.svc != nil {
		err = d.svc.Close()
	}
	return errors.Join(err, d.db.Close())
}

// openForServe opens (creating) the database and key and builds the
// service.
func openForServe(ctx context.Context, o *options, getenv func(string) string, log *slog.Logger) (bridgeDeps, error) {
	path, err := o.dbPath(getenv)
	if err != nil {
		return bridgeDeps{}, err
	}
	cfg, err := o.config()
	if err != nil {
		return bridgeDeps{}, err
	}
	red := redact.Default()
	if o.redactRules != "" {
		if red, err = redact.Load(o.redactRules); err != nil {
			return bridgeDeps{}, fmt.Errorf("redaction rules: %w", err)
		}
	}
	keyPath, err := o.keyFileFor(path)
	if err != nil {
		return bridgeDeps{}, err
	}
	db, err := openDatabase(ctx, path)
	if err != nil {
		return bridgeDeps{}, err
	}
	key, createdKey, err := loadServeKey(keyPath)
	if err != nil {
		db.Close()
		return bridgeDeps{}, err
	}
	if wd, err := os.Getwd(); err == nil {
		cfg.Workdir = wd // lets hooks in this project find the agent's sessions
		cfg.Yolo.Workspace = wd
		host, _ := os.Hostname()
		cfg.Yolo.Origin = host + ":" + wd
	}
	cfg.Yolo.Hide = bridgeFiles(path, keyPath)
	if cfg.Yolo, err = yoloSettings(cfg.Yolo, o, getenv, log); err != nil {
		db.Close()
		return bridgeDeps{}, err
	}
	// An HTTP node is scraped for metrics; a stdio server has no port to
	// serve them on, so it keeps none.
	var m *metrics.Metrics
	var st bridge.Store = db
	if o.http.addr != "" {
		m = metrics.New()
		cfg.Events, st = m, m.Store(db)
	}
	svc := bridge.NewService(st, key, red, cfg, log)
	if err := checkServeKey(ctx, svc, db.Path(), keyPath, createdKey, o.initKey, log); err != nil {
		db.Close()
		return bridgeDeps{}, err
	}
	if err := sealLegacy(ctx, svc, log); err != nil {
		db.Close()
		return bridgeDeps{}, err
	}
	if m != nil {
		m.WatchWaiters(svc.Waiters)
	}
	return bridgeDeps{db: db, svc: svc, metrics: m}, nil
}

// openExisting opens a database and key that the server created; the
// management commands never create either.
func openExisting(ctx context.Context, o *options, getenv func(string) string, log *slog.Logger) (bridgeDeps, error) {
	path, err := o.dbPath(getenv)
	if err != nil {
		return bridgeDeps{}, err
	}
	if err := checkExists(path); err != nil {
		return bridgeDeps{}, err
	}
	keyPath, err := o.keyFileFor(path)
	if err != nil {
		return bridgeDeps{}, err
	}
	key, err := token.Load(keyPath)
	if err != nil {
		return bridgeDeps{}, err
	}
	db, err := openDatabase(ctx, path)
	if err != nil {
		return bridgeDeps{}, err
	}
	cfg := bridge.DefaultConfig()
	cfg.ReassignAfter = o.reassignAfter // the watchdog's --reassign-after; 0 elsewhere
	return bridgeDeps{db: db, svc: bridge.NewService(db, key, redact.Default(), cfg, log)}, nil
}

// openOrCreate opens the database as openExisting does, except that a
// SQLite file that does not exist yet is created, with its key file (both
// readable by their owner only). It reports whether it created them.
func openOrCreate(ctx context.Context, o *options, getenv func(string) string, log *slog.Logger) (bridgeDeps, bool, error) {
	path, err := o.dbPath(getenv)
	if err != nil {
		return bridgeDeps{}, false, err
	}
	if !neverUsed(path) {
		deps, err := openExisting(ctx, o, getenv, log)
		return deps, false, err
	}
	keyPath, err := o.keyFileFor(path)
	if err != nil {
		return bridgeDeps{}, false, err
	}
	db, err := openDatabase(ctx, path)
	if err != nil {
		return bridgeDeps{}, false, err
	}
	key, err := token.LoadOrCreate(keyPath)
	if err != nil {
		db.Close()
		return bridgeDeps{}, false, err
	}
	return bridgeDeps{db: db, svc: bridge.NewService(db, key, redact.Default(), bridge.DefaultConfig(), log)}, true, nil
}
