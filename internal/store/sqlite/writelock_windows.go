//go:build windows

package sqlite

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

var errLockUnsupported = errors.New("file locks are not supported here")

// lockFile blocks until this process holds f's exclusive lock.
func lockFile(f *os.File) error {
	ol := new(windows.Overlapped)
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, ol)
}

// tryLockFile leaves every wait to lockFile here: took is always false.
func tryLockFile(*os.File) (took bool, err error) { return false, nil }

func unlockFile(f *os.File) {
	ol := new(windows.Overlapped)
	windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}
