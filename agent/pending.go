package agent

import (
	"context"

	"github.com/socktop/socktop/wire"
)

// Collectors whose procfs readers have not landed yet: the agent does not
// advertise these capabilities, and says so when asked.

func (a *Agent) disks(context.Context) (*sample[*wire.Disks], error) {
	return nil, errNotSupported("disks")
}

func (a *Agent) processDetail(context.Context, uint32) (*wire.ProcessDetail, error) {
	return nil, errNotSupported("process detail")
}

func (c *collector) addSensors(*wire.Metrics) {}
