package model

import (
	"fmt"
	"net"
	"testing"
)

// A host name that does not exist stops the dialling until r, unless the
// agent was reached before (the network changed, not the name).
func TestClassifyUnknownHost(t *testing.T) {
	err := fmt.Errorf("cannot resolve host pi-kitchn.invalid: %w", &net.DNSError{Err: "no such host", Name: "pi-kitchn.invalid", IsNotFound: true})
	if p := classify(err, false); p != PhaseFailed {
		t.Errorf("unknown host, never connected: phase %v, want PhaseFailed (not retried)", p)
	}
	if p := classify(err, true); p != PhaseWaiting {
		t.Errorf("unknown host after a connection: phase %v, want PhaseWaiting (retried)", p)
	}
	timeout := fmt.Errorf("cannot resolve host pi: %w", &net.DNSError{Err: "i/o timeout", Name: "pi", IsTimeout: true})
	if p := classify(timeout, false); p != PhaseWaiting {
		t.Errorf("a DNS timeout: phase %v, want PhaseWaiting", p)
	}
}
