//go:build !linux

package realtime

import (
	"errors"

	"github.com/gopacket/gopacket/layers"
)

// ErrPermission reports a live capture the process is not allowed to open.
var ErrPermission = errors.New("live capture needs CAP_NET_RAW")

// Live is a live capture; only Linux (AF_PACKET) has one.
type Live struct{}

// OpenLive fails: live capture is implemented for Linux only.
func OpenLive(name string) (*Live, error) {
	return nil, errors.New("live capture on " + name + ": only on Linux (AF_PACKET)")
}

// Next never returns a frame.
func (l *Live) Next() ([]byte, int64, layers.LinkType, error) { return nil, 0, 0, ErrNoPacket }

// Drops returns 0.
func (l *Live) Drops() uint64 { return 0 }

// Close does nothing.
func (l *Live) Close() error { return nil }
