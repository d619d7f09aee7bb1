package agent

import (
	"context"

	"github.com/socktop/socktop/wire"
)

// helloKind describes the agent: versions, machine, capabilities (v2 only;
// the first request of a v2 client).
var helloKind = &kind{
	name: "hello",
	v2:   &wire.Request{Body: &wire.Request_Hello{Hello: &wire.HelloRequest{}}},
	open: uncached(func(a *Agent, _ context.Context, _ query) (*wire.Hello, error) { return a.hello(), nil }),
}

// hello describes this agent; Hello is cheap and read from what the
// collector already knows, plus one read of the host files at most.
func (a *Agent) hello() *wire.Hello {
	h := a.coll.hostInfo()
	boot, _ := a.bootTime()
	var memTotal uint64
	if mi, err := a.fs.Meminfo(); err == nil {
		memTotal = mi.Total
	}
	return &wire.Hello{
		AgentVersion: validText(a.cfg.Version), ProtocolMajor: wire.ProtocolMajor, ProtocolMinor: wire.ProtocolMinor,
		Hostname: h.Hostname, Kernel: h.KernelRelease, Arch: h.Arch, Cores: uint32(h.CPUs),
		BootTime: boot, Capabilities: a.Capabilities(), MemTotal: memTotal,
	}
}

func (a *Agent) bootTime() (uint64, error) {
	st, err := a.fs.Stat()
	if err != nil {
		return 0, err
	}
	return uint64(st.BootTime), nil
}
