package slurm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotShared reports a path that compute nodes other than this machine cannot see.
var ErrNotShared = errors.New("not on a shared filesystem")

// Filesystem kinds as fsKind reports them.
const (
	fsShared  = "shared"
	fsLocal   = "local"
	fsUnknown = "unknown"
)

// SharedCheck is what CheckShared found.
type SharedCheck struct {
	// Verified is true when every path is known to be visible on the nodes: on a network or
	// cluster filesystem, or on a cluster whose only node is this machine.
	Verified bool
	// Message says what was checked and found, for the user.
	Message string
}

// CheckShared checks that paths (the run directory, the etch binary, the datasets) are visible
// on the partition's compute nodes. Paths on network and cluster filesystems (NFS, Lustre, GPFS,
// BeeGFS, CephFS, SMB, ...) pass; paths on local filesystems pass only when the partition's nodes
// are all this machine, and otherwise fail with ErrNotShared. What cannot be decided (an unknown
// filesystem, sinfo not answering) passes with Verified false and a message that says so.
func CheckShared(ctx context.Context, c *Client, partition string, paths ...string) (SharedCheck, error) {
	var local, unknown, shared []string
	for _, p := range paths {
		kind, name := fsKind(p)
		desc := fmt.Sprintf("%s (%s)", p, name)
		switch kind {
		case fsShared:
			shared = append(shared, desc)
		case fsLocal:
			local = append(local, desc)
		default:
			unknown = append(unknown, desc)
		}
	}
	if len(local) == 0 && len(unknown) == 0 {
		return SharedCheck{Verified: true, Message: "on shared filesystems: " + strings.Join(shared, ", ")}, nil
	}
	nodes, err := c.Nodes(ctx, partition)
	if err != nil {
		return SharedCheck{Message: fmt.Sprintf("cannot verify that %s are visible on the compute nodes (%v); "+
			"the run directory must be on a filesystem the nodes share", strings.Join(append(local, unknown...), ", "), err)}, nil
	}
	if thisMachine(nodes) {
		return SharedCheck{Verified: true, Message: fmt.Sprintf("the cluster's only node (%s) is this machine, so local paths are shared: %s",
			nodes[0].Name, strings.Join(append(local, unknown...), ", "))}, nil
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	if len(local) > 0 {
		return SharedCheck{}, fmt.Errorf("%w: %s on local filesystems, but tasks run on %s: put the run directory (--out), "+
			"etch and the data on a filesystem the nodes share (or pass --assume-shared if these paths are shared another way)",
			ErrNotShared, strings.Join(local, ", "), strings.Join(names, ", "))
	}
	return SharedCheck{Message: fmt.Sprintf("cannot verify that %s are visible on %s (filesystem type unknown); "+
		"the run directory must be on a filesystem the nodes share", strings.Join(unknown, ", "), strings.Join(names, ", "))}, nil
}

// thisMachine reports whether every node is this machine (a single-node test cluster).
func thisMachine(nodes []Node) bool {
	host, _ := os.Hostname()
	short, _, _ := strings.Cut(host, ".")
	for _, n := range nodes {
		ok := false
		for _, s := range []string{n.Name, n.Host, n.Addr} {
			if s == "localhost" || s == host || (short != "" && s == short) {
				ok = true
			}
			if ip := net.ParseIP(s); ip != nil && ip.IsLoopback() {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return len(nodes) > 0
}

// existing returns path or its nearest existing parent (the run directory may not exist yet).
func existing(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	for {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}
