//go:build !linux

package slurm

// fsKind cannot tell filesystems apart outside Linux: every path is of unknown kind.
func fsKind(path string) (kind, name string) {
	return fsUnknown, "filesystem type not checked on this OS"
}
