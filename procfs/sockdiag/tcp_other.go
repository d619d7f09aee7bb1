//go:build !linux

package sockdiag

// CollectTCP is Collect for TCP alone; outside Linux it lists nothing.
func (c *Collector) CollectTCP(dst []Socket, opts Options) ([]Socket, error) {
	opts.TCP, opts.UDP = true, false
	return c.Collect(dst, opts)
}
