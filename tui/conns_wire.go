package tui

import (
	"context"

	"github.com/socktop/socktop/wire"
)

// Connections asks the agent for its socket table (socktop.v2 agents that
// advertise the connections capability).
func (w *wireClient) Connections(ctx context.Context) (*wire.Connections, error) {
	return w.c.Connections(ctx)
}
