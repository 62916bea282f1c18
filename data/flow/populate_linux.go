package flow

import "syscall"

// populate asks Linux to map every page of the file at once instead of faulting them in one by
// one while the capture is parsed.
const populate = syscall.MAP_POPULATE

// advise tells the kernel the mapping is read sequentially.
func advise(b []byte) { _ = syscall.Madvise(b, syscall.MADV_SEQUENTIAL) }
