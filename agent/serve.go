package agent

import (
	"context"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

// serveText answers one JSON- or command-dialect request.
func (a *Agent) serveText(ctx context.Context, req dialect.TextRequest) (wire.Frame, error) {
	switch req.Route.ID {
	case 0: // Metrics
		s, err := a.metricsC.Get(ctx)
		if err != nil {
			return wire.Frame{}, err
		}
		return s.frame(req.Dialect, dialect.ReplyMetrics), nil
	case 2: // Processes
		s, err := a.procsC.Get(ctx)
		if err != nil {
			return wire.Frame{}, err
		}
		return s.frame(req.Dialect, dialect.ReplyProcesses), nil
	case 1: // Disks
		d, err := a.disks(ctx)
		if err != nil {
			return wire.Frame{}, err
		}
		return d.frame(req.Dialect, dialect.ReplyDisks), nil
	case 3: // ProcessDetail
		d, err := a.processDetail(ctx, req.PID)
		if err != nil {
			return wire.Frame{}, err
		}
		return d.frame(req.Dialect, dialect.ReplyProcessDetail), nil
	case 4: // Journal
		j, err := a.journal(ctx, req.PID, 0)
		if err != nil {
			return wire.Frame{}, err
		}
		return j.frame(req.Dialect, dialect.ReplyJournal), nil
	}
	return wire.Frame{}, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "unknown request")
}

// serveV2 answers one native request with a complete Response frame.
func (a *Agent) serveV2(ctx context.Context, req *wire.Request) ([]byte, error) {
	switch b := req.Body.(type) {
	case *wire.Request_Hello:
		body, err := a.hello().MarshalVT()
		return envelope(req.Id, fieldHello, body), err
	case *wire.Request_Metrics:
		s, err := a.metricsC.Get(ctx)
		if err != nil {
			return nil, err
		}
		return s.v2Response(req.Id, fieldMetrics, (*wire.Metrics).MarshalVT)
	case *wire.Request_Processes:
		s, err := a.procsC.Get(ctx)
		if err != nil {
			return nil, err
		}
		return s.v2Response(req.Id, fieldProcesses, (*wire.Processes).MarshalVT)
	case *wire.Request_Disks:
		s, err := a.disks(ctx)
		if err != nil {
			return nil, err
		}
		return s.v2Response(req.Id, fieldDisks, (*wire.Disks).MarshalVT)
	case *wire.Request_ProcessDetail:
		d, err := a.processDetail(ctx, b.ProcessDetail.GetPid())
		if err != nil {
			return nil, err
		}
		return d.v2Response(req.Id, fieldProcessDetail, (*wire.ProcessDetail).MarshalVT)
	case *wire.Request_Journal:
		j, err := a.journal(ctx, b.Journal.GetPid(), int(min(b.Journal.GetLines(), journalMaxLines)))
		if err != nil {
			return nil, err
		}
		return j.v2Response(req.Id, fieldJournal, (*wire.Journal).MarshalVT)
	case *wire.Request_Connections:
		s, err := a.connections(ctx)
		if err != nil {
			return nil, err
		}
		return s.v2Response(req.Id, fieldConnections, (*wire.Connections).MarshalVT)
	case *wire.Request_Signal:
		r, err := a.signal(b.Signal)
		if err != nil {
			return nil, err
		}
		body, err := r.MarshalVT()
		return envelope(req.Id, fieldSignal, body), err
	}
	return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "empty or unknown request body")
}

func requestPID(req *wire.Request) uint32 {
	switch b := req.Body.(type) {
	case *wire.Request_ProcessDetail:
		return b.ProcessDetail.GetPid()
	case *wire.Request_Journal:
		return b.Journal.GetPid()
	case *wire.Request_Signal:
		return b.Signal.GetPid()
	}
	return 0
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

// Rate-limit costs: a request for shared, cached data costs 1 token; a
// process detail (up to ~1,000 files read) or a journal (a journalctl run)
// costs more, so one client cannot hold the agent's cores with them.
func textCost(req dialect.TextRequest) float64 {
	if req.Route == nil {
		return 1
	}
	switch req.Route.ID {
	case 3: // ProcessDetail
		return detailCost
	case 4: // Journal
		return journalCost
	}
	return 1
}

func v2Cost(req *wire.Request) float64 {
	switch req.Body.(type) {
	case *wire.Request_ProcessDetail:
		return detailCost
	case *wire.Request_Journal:
		return journalCost
	}
	return 1
}
