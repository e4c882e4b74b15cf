//go:build !unix && !windows

package sqlite

import (
	"errors"
	"os"
)

var errLockUnsupported = errors.New("file locks are not supported here")

// lockFile has no file lock to take here: SQLite's own lock serialises
// writers, polling.
func lockFile(*os.File) error { return errLockUnsupported }

func tryLockFile(*os.File) (bool, error) { return false, errLockUnsupported }

func unlockFile(*os.File) {}
