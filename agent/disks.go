package agent

import (
	"context"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

// disksKind is every mounted real file system with its device's I/O.
var disksKind = &kind{
	name: "disks", capability: wire.CapDisks,
	v2:       &wire.Request{Body: &wire.Request_Disks{Disks: &wire.DisksRequest{}}},
	text:     dialect.Route{JSON: "disks", Command: "get_disks"},
	encode:   textOf(dialect.ReplyDisks),
	open:     func(a *Agent) source { return cachedOf(a.cfg.DisksTTL, a.coll.disks) },
	snapshot: true,
	push: &pushSpec{floor: 200 * time.Millisecond, asked: (*wire.SubscribeRequest).GetDisksMs,
		kept: func(s *wire.Subscription, ms uint32, _ query) { s.DisksMs = ms }},
	prom: func(p *promWriter, r reply) { writeDiskMetrics(p, r.message().(*wire.Disks)) },
}

// blockRecheck is how long what is known of the block devices is trusted.
const blockRecheck = time.Minute

// collectDisks lists parent disks followed by their partitions, as upstream
// does: a parent's usage and I/O are the sums of its mounted partitions.
// Whole devices mounted as they are (a VM's vda, dm-0, NFS) stand alone.
func (c *collector) disks(context.Context) (*sample[*wire.Disks], error) {
	// A disk may be plugged in: what was learnt of block devices is
	// looked up again now and then (hung network mounts stay known).
	if now := time.Now(); now.Sub(c.disksAt) > blockRecheck {
		c.diskState.Forget()
		c.disksAt = now
	}
	ds, err := c.sys.Disks(c.diskState)
	if err != nil {
		return nil, err
	}
	out := &wire.Disks{SampledAtMs: nowMS()}
	parents := map[string]*wire.Disk{} // by the kernel's name, before validText
	rawName := map[*wire.Disk]string{}
	for i := range ds {
		d := &ds[i]
		row := diskRow(d)
		if !d.IsPartition || d.Parent == "" {
			out.Disks = append(out.Disks, row)
			continue
		}
		p := parents[d.Parent]
		if p == nil {
			p = &wire.Disk{Name: row.Parent, TemperatureC: row.TemperatureC}
			parents[d.Parent], rawName[p] = p, d.Parent
			out.Disks = append(out.Disks, p)
		}
		p.Total += row.Total
		p.Available += row.Available
		p.Used += row.Used
		p.Free += row.Free
		p.ReadBytes += row.ReadBytes
		p.WriteBytes += row.WriteBytes
		p.ReadOps += row.ReadOps
		p.WriteOps += row.WriteOps
		p.IoTimeMs = max(p.IoTimeMs, row.IoTimeMs)
	}
	// Partitions go right after their parent, in the order they were found.
	ordered := make([]*wire.Disk, 0, len(out.Disks)+len(ds))
	for _, x := range out.Disks {
		ordered = append(ordered, x)
		raw, ok := rawName[x]
		if !ok {
			continue
		}
		for i := range ds {
			if ds[i].IsPartition && ds[i].Parent == raw {
				ordered = append(ordered, diskRow(&ds[i]))
			}
		}
	}
	out.Disks = ordered[:min(len(ordered), wire.MaxDisks)] // what a client believes (wire/plausible.go)
	return newSample(out), nil
}

func diskRow(d *procfs.Disk) *wire.Disk {
	// As df computes them: used is what is not free, the blocks reserved
	// for root not counted as used; use% = used ÷ (used + available).
	w := &wire.Disk{Name: validText(d.Name), MountPoint: validText(d.MountPoint), FsType: validText(d.FSType), Total: d.Total, Available: d.Available,
		Used: d.Total - min(d.Free, d.Total), Free: d.Free,
		IsPartition: d.IsPartition && d.Parent != "", Parent: validText(d.Parent),
		ReadBytes: d.ReadBytes, WriteBytes: d.WrittenBytes, ReadOps: d.Reads, WriteOps: d.Writes, IoTimeMs: d.IOTimeMs}
	if d.TempC != nil {
		v := float32(*d.TempC)
		w.TemperatureC = &v
	}
	return w
}

func writeDiskMetrics(p *promWriter, d *wire.Disks) {
	var fsys, devs []*wire.Disk
	for _, x := range d.Disks {
		if x.MountPoint != "" {
			fsys = append(fsys, x)
		}
		if !x.IsPartition {
			devs = append(devs, x)
		}
	}
	if len(fsys) > 0 {
		p.family("socktop_filesystem_size_bytes", "gauge", "Filesystem size.")
		for _, x := range fsys {
			p.sample("socktop_filesystem_size_bytes", float64(x.Total), "device", x.Name, "mountpoint", x.MountPoint, "fstype", x.FsType)
		}
		p.family("socktop_filesystem_avail_bytes", "gauge", "Filesystem space available to unprivileged users.")
		for _, x := range fsys {
			p.sample("socktop_filesystem_avail_bytes", float64(x.Available), "device", x.Name, "mountpoint", x.MountPoint, "fstype", x.FsType)
		}
		p.family("socktop_filesystem_free_bytes", "gauge", "Filesystem free space, the blocks reserved for root included (df's used = size − free).")
		for _, x := range fsys {
			p.sample("socktop_filesystem_free_bytes", float64(x.Free), "device", x.Name, "mountpoint", x.MountPoint, "fstype", x.FsType)
		}
	}
	if len(devs) > 0 {
		p.family("socktop_disk_read_bytes_total", "counter", "Bytes read from the disk.")
		for _, x := range devs {
			p.sample("socktop_disk_read_bytes_total", float64(x.ReadBytes), "device", x.Name)
		}
		p.family("socktop_disk_written_bytes_total", "counter", "Bytes written to the disk.")
		for _, x := range devs {
			p.sample("socktop_disk_written_bytes_total", float64(x.WriteBytes), "device", x.Name)
		}
	}
}
