package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/agent-bridge/agent-bridge/internal/bridge"
	"github.com/agent-bridge/agent-bridge/internal/token"
)

// loadServeKey reads the key file at keyPath, creating it when it does not
// exist. It reports whether it created it, for checkServeKey.
func loadServeKey(keyPath string) (key token.Key, created bool, err error) {
	_, statErr := os.Stat(keyPath)
	created = errors.Is(statErr, fs.ErrNotExist)
	key, err = token.LoadOrCreate(keyPath)
	return key, created, err
}

// checkServeKey refuses to serve a database that already holds data with a
// key that did not write it: a mistyped --key-file or a key lost beside a
// moved database would otherwise hand out tokens no other node accepts and
// make every older audit row read as edited. initKey (--init-key) is the
// operator saying a new key is meant.
func checkServeKey(ctx context.Context, svc *bridge.Service, dbPath, keyPath string, created, initKey bool, log *slog.Logger) error {
	err := svc.CheckKey(ctx)
	if !errors.Is(err, bridge.ErrKeyMismatch) {
		return err
	}
	if initKey {
		log.Warn("serving with a key the database was not written with (--init-key): older tokens are refused and older audit rows no longer verify", "key_file", keyPath)
		return svc.AdoptKey(ctx)
	}
	if created {
		return fmt.Errorf("the key file %s did not exist and was just created, but the database %s already holds conversations signed with another key. "+
			"Pass --key-file with the original key (by default it sits beside the database as its path plus .key), "+
			"or pass --init-key to start over with the new key (every existing token stops working)", keyPath, dbPath)
	}
	return fmt.Errorf("the key file %s is not the key the database %s was written with (its newest audit row does not verify under it). "+
		"Pass --key-file with the right key; if the key is right, the newest audit row was edited: run agent-bridge audit --verify. "+
		"--init-key serves anyway with this key (every existing token stops working)", keyPath, dbPath)
}

// sealLegacy seals, once, the rows of a database upgraded from before row
// MACs, now that the key is known to be the database's (see
// bridge.Service.SealLegacy).
func sealLegacy(ctx context.Context, svc *bridge.Service, log *slog.Logger) error {
	n, sealed, err := svc.SealLegacy(ctx)
	if err != nil {
		return fmt.Errorf("seal the rows written before row MACs: %w", err)
	}
	if sealed {
		log.Info("sealed the rows written before row MACs; from now on a row without a valid MAC is reported as tampering",
			"messages", n.Messages, "members", n.Members, "invites", n.Invites)
	}
	return nil
}
