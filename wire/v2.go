package wire

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors callers branch on with errors.Is. A *Error received from
// an agent matches the sentinel of its code; the client returns
// ErrNotSupported itself for calls the negotiated dialect cannot make.
var (
	ErrUnknownPID   = errors.New("no such process")
	ErrNotPermitted = errors.New("not permitted")
	ErrNotSupported = errors.New("not supported by this agent")
	ErrRateLimited  = errors.New("rate limited")
	ErrBadRequest   = errors.New("bad request")
	ErrInternal     = errors.New("agent internal error")
	// ErrProtocolVersion: the peer speaks another major protocol version.
	ErrProtocolVersion = errors.New("protocol version mismatch")
)

var codeSentinels = map[ErrorCode]error{
	ErrorCode_ERROR_CODE_UNKNOWN_PID:      ErrUnknownPID,
	ErrorCode_ERROR_CODE_NOT_PERMITTED:    ErrNotPermitted,
	ErrorCode_ERROR_CODE_NOT_SUPPORTED:    ErrNotSupported,
	ErrorCode_ERROR_CODE_RATE_LIMITED:     ErrRateLimited,
	ErrorCode_ERROR_CODE_BAD_REQUEST:      ErrBadRequest,
	ErrorCode_ERROR_CODE_INTERNAL:         ErrInternal,
	ErrorCode_ERROR_CODE_PROTOCOL_VERSION: ErrProtocolVersion,
}

// Error makes *Error a Go error: "agent: <message> (<code>)".
func (x *Error) Error() string {
	code := strings.ToLower(strings.TrimPrefix(x.GetCode().String(), "ERROR_CODE_"))
	return fmt.Sprintf("agent: %s (%s)", x.GetMessage(), strings.ReplaceAll(code, "_", " "))
}

// Is matches the sentinel error of the code, e.g. ErrUnknownPID.
func (x *Error) Is(target error) bool {
	s, ok := codeSentinels[x.GetCode()]
	return ok && s == target
}

// Is lets errors.Is(err, ErrUnknownPID) match upstream's "Process N not
// found" error object.
func (e *AgentError) Is(target error) bool {
	return target == ErrUnknownPID && strings.HasSuffix(e.Message, "not found")
}

// AppendResponse appends the encoding of r to buf[:0] and returns it. With a
// buffer of sufficient capacity (reuse the previous result) it does not
// allocate.
func AppendResponse(buf []byte, r *Response) []byte {
	n := r.SizeVT()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := r.MarshalToSizedBufferVT(buf); err != nil {
		panic("wire: Response changed while encoding: " + err.Error())
	}
	return buf
}

// AppendRequest appends the encoding of r to buf[:0] and returns it.
func AppendRequest(buf []byte, r *Request) []byte {
	n := r.SizeVT()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := r.MarshalToSizedBufferVT(buf); err != nil {
		panic("wire: Request changed while encoding: " + err.Error())
	}
	return buf
}

// DecodeRequest decodes one v2 binary frame from a client. A frame that is
// not a Request, or a Request without a body, is an error wrapping
// ErrMalformed; the agent answers it with ERROR_CODE_BAD_REQUEST.
func DecodeRequest(b []byte) (*Request, error) {
	r := &Request{}
	if err := r.UnmarshalVT(b); err != nil {
		return nil, fmt.Errorf("decode request: %w: %v", ErrMalformed, err)
	}
	if r.Body == nil {
		return r, fmt.Errorf("decode request %d: %w: no body (unknown request type?)", r.Id, ErrMalformed)
	}
	return r, nil
}

// DecodeResponse decodes one v2 binary frame from an agent. The result is
// freshly allocated and owned by the caller (it is not taken from the
// vtprotobuf pool, so handing its body on is safe). A Response without a
// body is malformed.
//
// A Response no real machine could send (CheckResponse) is refused before
// anything is allocated, with an error wrapping ErrImplausible.
func DecodeResponse(b []byte) (*Response, error) {
	if err := CheckResponse(b); err != nil {
		return nil, fmt.Errorf("decode response %d: %w", responseID(b), err)
	}
	r := &Response{}
	if err := r.UnmarshalVT(b); err != nil {
		return nil, fmt.Errorf("decode response: %w: %v", ErrMalformed, err)
	}
	if r.Body == nil {
		return nil, fmt.Errorf("decode response %d: %w: no body", r.Id, ErrMalformed)
	}
	return r, nil
}

// CheckHello is the agent's version check of a client's HelloRequest: nil
// when the major version is served, else an ERROR_CODE_PROTOCOL_VERSION
// error (after sending it, close the connection with status 1002).
func CheckHello(h *HelloRequest) *Error {
	if h.GetProtocolMajor() != ProtocolMajor {
		return NewError(ErrorCode_ERROR_CODE_PROTOCOL_VERSION,
			"protocol %d.%d is not served: this agent speaks %d.%d; upgrade the older side",
			h.GetProtocolMajor(), h.GetProtocolMinor(), ProtocolMajor, ProtocolMinor)
	}
	return nil
}

// HasCapability reports whether the agent lists capability c.
func (x *Hello) HasCapability(c string) bool {
	for _, have := range x.GetCapabilities() {
		if have == c {
			return true
		}
	}
	return false
}
