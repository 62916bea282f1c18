package realtime

import (
	"bufio"
	"encoding/json"
	"io"
)

// JSONLines returns an out function for New that writes each decision as one JSON line to w,
// flushing after every batch (decisions reach a pipe as they are made).
func JSONLines(w io.Writer) func([]Decision) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	return func(ds []Decision) error {
		for i := range ds {
			if err := enc.Encode(&ds[i]); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
}
