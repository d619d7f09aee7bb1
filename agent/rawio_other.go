//go:build !linux

package agent

import "net"

// rawIOListener is the listener itself off Linux.
type rawIOListener struct{ net.Listener }
