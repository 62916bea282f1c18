package slurm

import (
	"fmt"
	"syscall"
)

// Filesystem magic numbers (statfs f_type, linux/magic.h and the filesystems' sources).
var fsMagic = map[int64]struct{ name, kind string }{
	0x6969:     {"nfs", fsShared},
	0x517b:     {"smb", fsShared},
	0xff534d42: {"cifs", fsShared},
	0xfe534d42: {"smb2", fsShared},
	0x0bd00bd0: {"lustre", fsShared},
	0x47504653: {"gpfs", fsShared},
	0x19830326: {"beegfs", fsShared},
	0x00c36400: {"cephfs", fsShared},
	0x5346414f: {"afs", fsShared},
	0x7461636f: {"ocfs2", fsShared},
	0x01161970: {"gfs2", fsShared},
	0xaad7aaea: {"panfs", fsShared},
	0x01021997: {"9p", fsShared},
	0xef53:     {"ext4", fsLocal},
	0x58465342: {"xfs", fsLocal},
	0x9123683e: {"btrfs", fsLocal},
	0x01021994: {"tmpfs", fsLocal},
	0x794c7630: {"overlayfs", fsLocal},
	0x2fc12fc1: {"zfs", fsLocal},
	0xf2f52010: {"f2fs", fsLocal},
	0x65735546: {"fuse", fsUnknown},
}

// fsKind says whether path's filesystem is shared, local or unknown, and names it.
func fsKind(path string) (kind, name string) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(existing(path), &st); err != nil {
		return fsUnknown, "statfs: " + err.Error()
	}
	if m, ok := fsMagic[int64(st.Type)&0xffffffff]; ok {
		return m.kind, m.name
	}
	return fsUnknown, fmt.Sprintf("filesystem 0x%x", st.Type)
}
