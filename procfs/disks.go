package procfs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Mount is one line of /proc/self/mountinfo.
type Mount struct {
	ID, Parent   int
	Major, Minor uint32
	Root         string // path inside the file system (bind mounts show a subdir)
	MountPoint   string
	Options      string
	FSType       string
	Source       string
	SuperOptions string // the file system's own options (hidepid= for a procfs)
}

// ParseMountInfo parses /proc/<pid>/mountinfo (see proc(5)); octal escapes
// (\040 for space, …) in paths are decoded.
func ParseMountInfo(b []byte) ([]Mount, error) {
	var out []Mount
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(trimSpace(line)) == 0 {
			continue
		}
		f := bytes.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if string(f[i]) == "-" {
				sep = i
				break
			}
		}
		if len(f) < 7 || sep < 0 || sep+2 >= len(f) {
			return nil, malformed("mountinfo", "too few fields")
		}
		id, ok1 := parseUint(f[0])
		parent, ok2 := parseUint(f[1])
		colon := bytes.IndexByte(f[2], ':')
		if !ok1 || !ok2 || colon < 0 || id > 1<<31 || parent > 1<<31 {
			return nil, malformed("mountinfo", "bad ids")
		}
		maj, ok1 := parseUint(f[2][:colon])
		min, ok2 := parseUint(f[2][colon+1:])
		if !ok1 || !ok2 || maj > 1<<32-1 || min > 1<<32-1 {
			return nil, malformed("mountinfo", "bad device number")
		}
		m := Mount{
			ID: int(id), Parent: int(parent), Major: uint32(maj), Minor: uint32(min),
			Root: unescapeOctal(f[3]), MountPoint: unescapeOctal(f[4]), Options: string(f[5]),
			FSType: string(f[sep+1]), Source: unescapeOctal(f[sep+2]),
		}
		if sep+3 < len(f) {
			m.SuperOptions = string(f[sep+3])
		}
		out = append(out, m)
	}
	return out, nil
}

// unescapeOctal decodes the \ooo escapes the kernel uses in mount paths.
func unescapeOctal(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && isOctal(b[i+1:]) {
			out = append(out, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

func isOctal(b []byte) bool {
	return len(b) >= 3 && b[0] >= '0' && b[0] <= '3' && b[1] >= '0' && b[1] <= '7' && b[2] >= '0' && b[2] <= '7'
}

// pseudoFS are file system types that hold no user data on a disk.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "tmpfs": true, "devtmpfs": true, "devpts": true,
	"cgroup": true, "cgroup2": true, "overlay": true, "squashfs": true, "autofs": true,
	"securityfs": true, "debugfs": true, "tracefs": true, "pstore": true, "bpf": true,
	"mqueue": true, "hugetlbfs": true, "configfs": true, "fusectl": true, "binfmt_misc": true,
	"efivarfs": true, "rpc_pipefs": true, "nsfs": true, "ramfs": true, "selinuxfs": true,
	"nfsd": true, "ramdisk": true, "rootfs": true,
	"fuse.lxcfs": true, "fuse.gvfsd-fuse": true, "fuse.portal": true, "fuse.snapfuse": true,
	"devfs": true, "aufs": true, "shm": true, "none": true,
}

// networkFS are kept although their source is not a /dev path; statfs on them
// can hang, so it runs under a timeout.
var networkFS = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "9p": true,
	"virtiofs": true, "ceph": true, "glusterfs": true, "fuse.sshfs": true,
}

// anonDevFS are disk file systems whose mounts show an anonymous device number.
var anonDevFS = map[string]bool{"btrfs": true, "zfs": true, "bcachefs": true}

// IsRealFS reports whether a mount holds a real file system worth listing:
// not a pseudo or virtual one, and backed by a device (or a known network or
// pooled file system).
func IsRealFS(m *Mount) bool {
	if pseudoFS[m.FSType] {
		return false
	}
	if networkFS[m.FSType] || anonDevFS[m.FSType] {
		return true
	}
	return strings.HasPrefix(m.Source, "/dev/") || m.FSType == "fuseblk"
}

// Disk is one mounted real file system with its block device.
type Disk struct {
	// Name is the kernel name of the block device (sda1, nvme0n1p2,
	// mmcblk0p2, dm-0), or the source for devices without one (NFS).
	Name         string
	Source       string
	MountPoint   string
	FSType       string
	Major        uint32
	Minor        uint32
	IsPartition  bool
	Parent       string // whole disk of a partition
	Total        uint64
	Free         uint64 // statfs f_bfree: free blocks, those reserved for root included
	Available    uint64 // statfs f_bavail: what an unprivileged user may still write
	HasIO        bool   // whether the counters below come from /proc/diskstats
	Reads        uint64
	Writes       uint64
	ReadBytes    uint64
	WrittenBytes uint64
	IOTimeMs     uint64
	TempC        *float64 // drive temperature (NVMe, drivetemp), of the parent for partitions
}

// DiskState is what Disks remembers between calls, kept by its caller:
// the block device behind each mount (sysfs lookups: the topology changes
// only on hot-plug) until Forget, and the network mounts whose statfs
// hangs, so a hung NFS server costs one stuck goroutine, not one per call.
// Safe for concurrent use.
type DiskState struct {
	mu     sync.Mutex
	blocks map[string]blockInfo
	hung   map[string]bool
}

// NewDiskState returns an empty DiskState.
func NewDiskState() *DiskState {
	return &DiskState{blocks: map[string]blockInfo{}, hung: map[string]bool{}}
}

// Forget drops what was learnt of block devices (a disk may have been
// plugged in); the hung mounts are remembered until their statfs returns.
func (st *DiskState) Forget() {
	st.mu.Lock()
	clear(st.blocks)
	st.mu.Unlock()
}

// Disks lists mounted real file systems (from /proc/self/mountinfo under the
// proc root, or /proc/1/mountinfo with WithRootFS), each device once however often it is bind-mounted, with
// statfs sizes, partition/parent from sysfs, cumulative I/O from
// /proc/diskstats and the drive temperature where hwmon has it. st keeps
// what is learnt for the next call; nil learns everything afresh.
func (fs *FS) Disks(st *DiskState) ([]Disk, error) {
	if st == nil {
		st = NewDiskState()
	}
	var mounts []Mount
	path := fs.procPath("self", "mountinfo")
	if fs.rootFS != "" {
		// Statfs goes through the host's root: list the host's mounts too.
		path = fs.procPath("1", "mountinfo")
	}
	if err := fs.readWith(path, func(b []byte) error {
		var err error
		mounts, err = ParseMountInfo(b)
		return err
	}); err != nil {
		return nil, err
	}
	var stats map[string]DiskStats
	_ = fs.readWith(fs.procPath("diskstats"), func(b []byte) error {
		var err error
		stats, err = ParseDiskstats(b)
		return err
	})

	// One mount per device: prefer the one showing the file system's root,
	// then the shortest mount point.
	best := map[string]int{}
	for i := range mounts {
		m := &mounts[i]
		if !IsRealFS(m) {
			continue
		}
		key := fmt.Sprintf("%d:%d", m.Major, m.Minor)
		if m.Major == 0 && !anonDevFS[m.FSType] {
			key = m.Source // network file systems share anonymous numbers per mount
		}
		if j, ok := best[key]; ok {
			o := &mounts[j]
			if (o.Root == "/") != (m.Root == "/") {
				if o.Root == "/" {
					continue
				}
			} else if len(o.MountPoint) <= len(m.MountPoint) {
				continue
			}
		}
		best[key] = i
	}
	idx := make([]int, 0, len(best))
	for _, i := range best {
		idx = append(idx, i)
	}
	sort.Ints(idx)

	out := make([]Disk, 0, len(idx))
	for _, i := range idx {
		m := &mounts[i]
		d := Disk{Source: m.Source, MountPoint: m.MountPoint, FSType: m.FSType, Major: m.Major, Minor: m.Minor}
		blk := fs.block(st, m)
		d.Name, d.IsPartition, d.Parent = blk.name, blk.isPart, blk.parent
		size, err := fs.statfsMount(st, m)
		if err != nil {
			continue // unreadable or stuck mount: leave it out rather than show zeros
		}
		d.Total, d.Free, d.Available = size.Total, size.Free, size.Available
		if s, ok := stats[d.Name]; ok {
			d.HasIO = true
			d.Reads, d.Writes = s.Reads, s.Writes
			d.ReadBytes, d.WrittenBytes = s.SectorsRead*512, s.SectorsWritten*512
			d.IOTimeMs = s.IOTimeMs
		}
		if blk.tempPath != "" {
			if t, ok := fs.readMilli(blk.tempPath); ok {
				d.TempC = &t
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// blockInfo is what sysfs says about a mount's block device.
type blockInfo struct {
	name, parent string
	isPart       bool
	tempPath     string // hwmon temp1_input of the whole disk, "" when none
}

func (fs *FS) block(st *DiskState, m *Mount) blockInfo {
	key := fmt.Sprintf("%d:%d %s", m.Major, m.Minor, m.Source)
	st.mu.Lock()
	b, ok := st.blocks[key]
	st.mu.Unlock()
	if ok {
		return b
	}
	b.name = fs.blockName(m)
	if b.name != "" {
		b.isPart, b.parent = fs.blockParent(b.name, m.Major, m.Minor)
		disk := b.name
		if b.isPart && b.parent != "" {
			disk = b.parent
		}
		b.tempPath = fs.driveTempPath(disk)
	} else {
		b.name = m.Source
	}
	st.mu.Lock()
	st.blocks[key] = b
	st.mu.Unlock()
	return b
}

// blockName finds the kernel name of a mount's block device: from
// /sys/dev/block/MAJ:MIN/uevent, else the base name of a /dev source.
func (fs *FS) blockName(m *Mount) string {
	if m.Major != 0 {
		b, err := os.ReadFile(fs.sysPath("dev", "block", fmt.Sprintf("%d:%d", m.Major, m.Minor), "uevent"))
		if err == nil {
			for len(b) > 0 {
				var line []byte
				line, b = nextLine(b)
				if v, ok := bytes.CutPrefix(line, []byte("DEVNAME=")); ok && len(v) > 0 {
					return string(v)
				}
			}
		}
	}
	if strings.HasPrefix(m.Source, "/dev/") {
		return filepath.Base(m.Source)
	}
	return ""
}

// blockParent reports whether name is a partition and of which disk: from
// /sys/block/<disk>/<name>/partition, else by the naming rules
// (nvme0n1p1→nvme0n1, mmcblk0p2→mmcblk0, sda1→sda).
func (fs *FS) blockParent(name string, maj, min uint32) (bool, string) {
	if _, err := os.Stat(fs.sysPath("block", name)); err == nil {
		return false, "" // a whole disk (or dm/md/loop device)
	}
	if ents, err := os.ReadDir(fs.sysPath("block")); err == nil {
		for _, e := range ents {
			if _, err := os.Stat(fs.sysPath("block", e.Name(), name, "partition")); err == nil {
				return true, e.Name()
			}
		}
		if len(ents) > 0 {
			return false, "" // sysfs is there and does not know it as a partition
		}
	}
	return partitionByName(name)
}

// partitionByName applies the kernel's naming rules when sysfs is unavailable.
func partitionByName(name string) (bool, string) {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	if i == len(name) || i == 0 {
		return false, ""
	}
	base := name[:i]
	// A name ending in a digit before "p" (nvme0n1p1, mmcblk0p2, loop0p1)
	// uses the "p" separator.
	if base[len(base)-1] == 'p' && len(base) >= 2 && base[len(base)-2] >= '0' && base[len(base)-2] <= '9' {
		return true, base[:len(base)-1]
	}
	// nvme0n1, mmcblk0, loop0, md0, dm-0, nbd0 are whole devices.
	for _, p := range []string{"nvme", "mmcblk", "loop", "md", "dm-", "nbd", "zram", "sr", "rbd"} {
		if strings.HasPrefix(name, p) {
			return false, ""
		}
	}
	return true, base // sda1, vdb2, xvda1, hda3
}

// driveTempPath finds the temperature file of a whole disk in hwmon below
// its device (NVMe controllers, drivetemp for SATA).
func (fs *FS) driveTempPath(disk string) string {
	for _, pat := range []string{"device/hwmon/hwmon*/temp1_input", "device/hwmon*/temp1_input", "device/device/hwmon/hwmon*/temp1_input"} {
		matches, _ := filepath.Glob(filepath.Join(fs.sysPath("block", disk), pat))
		for _, p := range matches {
			if _, ok := fs.readMilli(p); ok {
				return p
			}
		}
	}
	return ""
}

// readMilli reads a sysfs value in thousandths (millidegrees) as a float,
// with a pooled buffer and no allocation.
func (fs *FS) readMilli(path string) (float64, bool) {
	var v int64
	ok := false
	if fs.readWith(path, func(b []byte) error {
		v, ok = parseInt(trimSpace(b))
		return nil
	}) != nil {
		return 0, false
	}
	return float64(v) / 1000, ok
}

// statfsTimeout bounds statfs on a network file system, which can hang.
const statfsTimeout = time.Second

func (fs *FS) statfsMount(st *DiskState, m *Mount) (StatfsResult, error) {
	path := m.MountPoint
	if fs.rootFS != "" {
		path = filepath.Join(fs.rootFS, path)
	}
	if !networkFS[m.FSType] {
		return fs.statfs(path)
	}
	st.mu.Lock()
	stuck := st.hung[path]
	if !stuck {
		st.hung[path] = true // until the call below returns
	}
	st.mu.Unlock()
	if stuck {
		return StatfsResult{}, fmt.Errorf("statfs %s: still hanging", path)
	}
	type result struct {
		st  StatfsResult
		err error
	}
	ch := make(chan result, 1)
	go func() {
		size, err := fs.statfs(path)
		st.mu.Lock()
		delete(st.hung, path)
		st.mu.Unlock()
		ch <- result{size, err}
	}()
	t := time.NewTimer(statfsTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.st, r.err
	case <-t.C:
		return StatfsResult{}, fmt.Errorf("statfs %s: timed out", path)
	}
}

// DiskStats is one line of /proc/diskstats.
type DiskStats struct {
	Major, Minor               uint32
	Name                       string
	Reads, SectorsRead         uint64
	Writes, SectorsWritten     uint64
	IOInProgress, IOTimeMs     uint64
	ReadTimeMs, WriteTimeMs    uint64
	Discards, SectorsDiscarded uint64
}

// ParseDiskstats parses /proc/diskstats into a map by device name. Sectors are
// always 512 bytes here, whatever the device's block size.
func ParseDiskstats(b []byte) (map[string]DiskStats, error) {
	out := map[string]DiskStats{}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 14 {
			return nil, malformed("diskstats", "too few fields")
		}
		var v [18]uint64
		for i := 0; i < len(f) && i < len(v); i++ {
			if i == 2 {
				continue
			}
			x, ok := parseUint(f[i])
			if !ok {
				return nil, malformed("diskstats", "bad counter")
			}
			v[i] = x
		}
		if v[0] > 1<<32-1 || v[1] > 1<<32-1 {
			return nil, malformed("diskstats", "bad device number")
		}
		d := DiskStats{
			Major: uint32(v[0]), Minor: uint32(v[1]), Name: string(f[2]),
			Reads: v[3], SectorsRead: v[5], ReadTimeMs: v[6],
			Writes: v[7], SectorsWritten: v[9], WriteTimeMs: v[10],
			IOInProgress: v[11], IOTimeMs: v[12],
			Discards: v[14], SectorsDiscarded: v[16],
		}
		out[d.Name] = d
	}
	return out, nil
}
