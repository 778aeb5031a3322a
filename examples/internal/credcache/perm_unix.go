//go:build unix

package credcache

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// noFollow makes opening a cache file fail when it is a symbolic link.
const noFollow = syscall.O_NOFOLLOW

// nonBlock makes opening a cache file return at once whatever it is: a
// FIFO planted at an entry's path would otherwise block the open until a
// writer came.
const nonBlock = syscall.O_NONBLOCK

// owned reports whether fi belongs to this process's effective user.
func owned(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: owner unknown", fi.Name())
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d, not %d", fi.Name(), st.Uid, os.Geteuid())
	}
	return nil
}

// private reports whether fi grants nothing to group or others.
func private(fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o, open to other users", fi.Name(), perm)
	}
	return nil
}
