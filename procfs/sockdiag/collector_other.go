//go:build !linux

package sockdiag

// resolver has nothing to keep outside Linux.
type resolver struct{}

func (c *Collector) collect(dst []Socket, _ Options) ([]Socket, error) {
	return dst, ErrUnsupported
}
