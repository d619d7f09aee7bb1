package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socktop/socktop/wire"
)

func init() { defaultDial = dialWire }

// clientVersion goes into the v2 Hello when the dialer is not given one.
var clientVersion = "dev"

// dialWireVersion is dialWire announcing version in the v2 Hello.
func dialWireVersion(version string) DialFunc {
	return func(ctx context.Context, t Target) (Client, error) { return dialWireAs(ctx, t, version) }
}

// wireClient adapts *wire.Client to Client.
type wireClient struct {
	c     *wire.Client
	hello *wire.Hello
}

// wireOptions builds wire's dial options from a target.
func wireOptions(t Target, version string) *wire.Options {
	o := &wire.Options{Token: t.Token, CAFile: t.TLSCA, VerifyHostname: t.VerifyHostname,
		ClientName: "socktop-connect", ClientVersion: version}
	if t.Pin != "" {
		o.Pins = []string{t.Pin}
	}
	return o
}

// dialWire dials with the wire client and maps its refusals onto the
// errors the dashboard branches on.
func dialWire(ctx context.Context, t Target) (Client, error) {
	return dialWireAs(ctx, t, clientVersion)
}

func dialWireAs(ctx context.Context, t Target, version string) (Client, error) {
	c, err := wire.Dial(ctx, t.URL, wireOptions(t, version))
	if err != nil {
		return nil, mapDialError(err)
	}
	h, err := c.Hello(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &wireClient{c: c, hello: h}, nil
}

func mapDialError(err error) error {
	var pm *wire.PinMismatchError
	var ut *wire.UntrustedCertError
	var hn *wire.HostnameError
	switch {
	case errors.Is(err, wire.ErrUnauthorized):
		return fmt.Errorf("%w", ErrAuth)
	case errors.As(err, &pm):
		want := ""
		if len(pm.Want) > 0 {
			want = pm.Want[0]
		}
		return &PinMismatchError{Want: want, Got: pm.Got}
	case errors.As(err, &ut):
		// No pin and a self-signed certificate: connect asks first (trust
		// on first use); here it is a refusal the user must act on.
		return fmt.Errorf("%w: %v", errPermanent, err)
	case errors.As(err, &hn), errors.Is(err, wire.ErrProtocol), errors.Is(err, wire.ErrProtocolVersion):
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	return err
}

func (w *wireClient) Hello() *wire.Hello { return w.hello }
func (w *wireClient) Dialect() string    { return w.c.Dialect().String() }
func (w *wireClient) Metrics(ctx context.Context) (*wire.Metrics, error) {
	return w.c.Metrics(ctx)
}
func (w *wireClient) Disks(ctx context.Context) (*wire.Disks, error) { return w.c.Disks(ctx) }
func (w *wireClient) Processes(ctx context.Context) (*wire.Processes, error) {
	return w.c.Processes(ctx)
}
func (w *wireClient) ProcessDetail(ctx context.Context, pid uint32) (*wire.ProcessDetail, error) {
	return w.c.ProcessDetail(ctx, pid)
}
func (w *wireClient) Journal(ctx context.Context, pid uint32, _ uint32) (*wire.Journal, error) {
	return w.c.Journal(ctx, pid)
}
func (w *wireClient) Signal(ctx context.Context, pid uint32, start uint64, sig string) (*wire.SignalResult, error) {
	return w.c.Signal(ctx, pid, start, sig)
}
func (w *wireClient) Close() error { return w.c.Close() }

// The pusher side: a socktop.v2 agent pushes samples.
func (w *wireClient) CanSubscribe() bool { return w.c.CanSubscribe() }
func (w *wireClient) Subscribe(ctx context.Context, c wire.Cadence) (wire.Cadence, error) {
	return w.c.Subscribe(ctx, c)
}
func (w *wireClient) Pushes() <-chan wire.Push { return w.c.Pushes() }
func (w *wireClient) Ping(ctx context.Context) (time.Duration, error) {
	return w.c.Ping(ctx)
}
func (w *wireClient) Done() <-chan struct{} { return w.c.Done() }
func (w *wireClient) Err() error            { return w.c.Err() }
