//go:build !linux || race

package agent

import "net"

// rawIOListener is the listener itself off Linux, and under the race
// detector (see rawIOConn).
type rawIOListener struct{ net.Listener }
