//go:build linux

package realtime

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// ErrPermission reports a live capture the process is not allowed to open.
var ErrPermission = errors.New("live capture needs CAP_NET_RAW (run as root, or `setcap cap_net_raw+ep bin/etch`)")

// Live captures the packets of one network interface through an AF_PACKET socket. Frames are
// timestamped with the wall clock when read. Reads time out every 100 ms with ErrNoPacket.
type Live struct {
	fd       int
	name     string
	link     layers.LinkType
	loopback bool
	buf      []byte
	drops    uint64
}

// OpenLive opens a live capture on the interface name.
func OpenLive(name string) (*Live, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("live capture on %s: %w", name, err)
	}
	proto := htons(unix.ETH_P_ALL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("interface %s: %w", name, ErrPermission)
		}
		return nil, fmt.Errorf("live capture on %s: socket: %w", name, err)
	}
	l := &Live{fd: fd, name: name, buf: make([]byte, 1<<18), loopback: ifi.Flags&net.FlagLoopback != 0}
	// Ethernet framing on Ethernet devices and on the loopback device; raw IP on others (tun).
	l.link = layers.LinkTypeRaw
	if l.loopback || len(ifi.HardwareAddr) == 6 {
		l.link = layers.LinkTypeEthernet
	}
	fail := func(what string, err error) (*Live, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("live capture on %s: %s: %w", name, what, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 16<<20)
	tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("timeout", err)
	}
	return l, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Next returns the next frame; ErrNoPacket after 100 ms without one. On the loopback device
// each packet is delivered twice (sent and received); the sent copy is skipped, as libpcap does.
func (l *Live) Next() (frame []byte, tsUS int64, link layers.LinkType, err error) {
	for {
		n, from, err := unix.Recvfrom(l.fd, l.buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				return nil, 0, 0, ErrNoPacket
			}
			return nil, 0, 0, fmt.Errorf("live capture on %s: %w", l.name, err)
		}
		if sll, ok := from.(*unix.SockaddrLinklayer); ok && l.loopback && sll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		return l.buf[:n], time.Now().UnixMicro(), l.link, nil
	}
}

// Drops returns the packets the kernel dropped for this socket so far.
func (l *Live) Drops() uint64 {
	if st, err := unix.GetsockoptTpacketStats(l.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		l.drops += uint64(st.Drops)
	}
	return l.drops
}

// Close closes the socket.
func (l *Live) Close() error { return unix.Close(l.fd) }
