package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
)

// ErrUnknownKind is Snapshot's error for a name that is no kind's.
var ErrUnknownKind = errors.New("unknown kind")

// Snapshot collects one sample of the kind named ("metrics", "disks",
// "processes", "connections"; SnapshotKinds lists them), as served to v2
// clients, through the same caches.
func (a *Agent) Snapshot(ctx context.Context, name string) (proto.Message, error) {
	i, ok := a.reg.byName[name]
	if !ok {
		return nil, fmt.Errorf("%q: %w (want %s)", name, ErrUnknownKind, strings.Join(a.SnapshotKinds(), ", "))
	}
	r, err := a.get(ctx, i, a.reg.kinds[i].snapshotQuery)
	if err != nil {
		return nil, err
	}
	return r.message(), nil
}

// SnapshotKinds names the kinds Snapshot collects.
func (a *Agent) SnapshotKinds() []string { return a.reg.snapshotNames() }
