package agent

import (
	"context"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

func (a *Agent) disks(ctx context.Context) (*sample[*wire.Disks], error) {
	return a.disksC.Get(ctx)
}

// collectDisks lists parent disks followed by their partitions, as upstream
// does: a parent's usage and I/O are the sums of its mounted partitions.
// Whole devices mounted as they are (a VM's vda, dm-0, NFS) stand alone.
func (c *collector) disks(context.Context) (*sample[*wire.Disks], error) {
	ds, err := c.fs.Disks()
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
	w := &wire.Disk{Name: validText(d.Name), MountPoint: validText(d.MountPoint), FsType: validText(d.FSType), Total: d.Total, Available: d.Available,
		IsPartition: d.IsPartition && d.Parent != "", Parent: validText(d.Parent),
		ReadBytes: d.ReadBytes, WriteBytes: d.WrittenBytes, ReadOps: d.Reads, WriteOps: d.Writes, IoTimeMs: d.IOTimeMs}
	if d.TempC != nil {
		v := float32(*d.TempC)
		w.TemperatureC = &v
	}
	return w
}
