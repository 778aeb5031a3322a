// Package watch polls the manifest digests of a set of images and reports
// when one moves, so that a platform can refresh the containers that run it.
//
// The first observation of an image only seeds what has been seen (unless
// the caller seeded it with the digest it runs); a moved digest calls the
// caller's [Handler] with the old and new digest, and when the handler fails
// the seen digest rolls back so that the next tick tries again. Errors are
// reported per image per tick and never stop the loop; a rate-limited
// registry postpones that image until its Retry-After, and repeated failures
// back off. In platform mode the digest compared is that of one platform's
// manifest inside the index, so a new arm64 build does not restart amd64
// hosts.
//
// With the default five-minute interval, watching the nine runtime images
// costs nine HEAD requests per interval plus the token requests the
// registry's token lifetime requires.
package watch
