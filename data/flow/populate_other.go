//go:build unix && !linux

package flow

// populate is 0 where MAP_POPULATE does not exist.
const populate = 0

func advise([]byte) {}
