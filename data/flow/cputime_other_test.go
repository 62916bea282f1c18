//go:build !unix

package flow

import "time"

// cpuTime is not measured here: CPU rates come out as infinities and mean nothing.
func cpuTime() time.Duration { return 0 }
