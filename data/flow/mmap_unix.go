//go:build unix

package flow

import (
	"os"
	"syscall"
)

// mapFile maps a regular file read-only into memory (pages prefetched where the system supports
// it, see populate). ok is false where mapping is not possible (empty file, not a regular file,
// mmap refused); the caller then reads the file as a stream.
func mapFile(f *os.File) (b []byte, unmap func(), ok bool) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() <= 0 || int64(int(st.Size())) != st.Size() {
		return nil, nil, false
	}
	b, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED|populate)
	if err != nil {
		return nil, nil, false
	}
	advise(b)
	return b, func() { _ = syscall.Munmap(b) }, true
}
