package agent

import (
	"context"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

// serveText answers one JSON- or command-dialect request (req.Err is nil).
func (a *Agent) serveText(ctx context.Context, req dialect.TextRequest) (wire.Frame, error) {
	i := req.Route.ID
	k := a.reg.kinds[i]
	q := query{pid: req.PID}
	if k.textQuery != nil {
		var err error
		if q, err = k.textQuery(req); err != nil {
			return wire.Frame{}, err
		}
	}
	r, err := a.get(ctx, i, q)
	if err != nil {
		return wire.Frame{}, err
	}
	return r.frame(req.Dialect, k.encode), nil
}

// serveV2 answers one native request with a complete Response frame.
func (a *Agent) serveV2(ctx context.Context, req *wire.Request) ([]byte, error) {
	return a.serveKind(ctx, a.reg.route(req), req)
}

// serveKind answers req, a request of kind rt: the kind's shared body,
// marshalled once per sample, in a small envelope.
func (a *Agent) serveKind(ctx context.Context, rt v2Route, req *wire.Request) ([]byte, error) {
	if rt.k == nil {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "empty or unknown request body")
	}
	r, err := a.get(ctx, rt.i, rt.query(req))
	if err != nil {
		return nil, err
	}
	body, err := r.v2Body()
	return envelope(req.Id, a.reg.fields[rt.i], body), err
}

// Rate-limit costs: a request for shared, cached data costs 1 token; a
// process detail (up to ~1,000 files read) or a journal (a journalctl run)
// costs more (kind.cost), so one client cannot hold the agent's cores
// with them.
func (a *Agent) textCost(req dialect.TextRequest) float64 {
	if req.Route == nil {
		return 1
	}
	return costOf(a.reg.kinds[req.Route.ID])
}

func costOf(k *kind) float64 { return max(k.cost, 1) }
