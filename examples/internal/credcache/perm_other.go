//go:build !unix

package credcache

import "io/fs"

// noFollow is unavailable here; the directory's access control list, under
// the user's profile, is what keeps the files private.
const noFollow = 0

// nonBlock is unavailable here; entries are checked with Lstat before they
// are opened.
const nonBlock = 0

// owned cannot be checked from mode bits on this system.
func owned(fs.FileInfo) error { return nil }

// private cannot be checked from mode bits on this system.
func private(fs.FileInfo) error { return nil }
