//go:build !unix

package flow

import "os"

// mapFile is not available here: files are read as streams.
func mapFile(f *os.File) (b []byte, unmap func(), ok bool) { return nil, nil, false }
