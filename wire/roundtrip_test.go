package wire

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestV2RoundTrip encodes every envelope body with vtprotobuf, checks the
// bytes against the reference protobuf runtime, and decodes them back.
func TestV2RoundTrip(t *testing.T) {
	var msgs []interface {
		proto.Message
		MarshalVT() ([]byte, error)
	}
	for _, r := range sampleRequests() {
		msgs = append(msgs, r)
	}
	for _, r := range sampleResponses() {
		msgs = append(msgs, r)
	}
	msgs = append(msgs, ToProcessList(sampleProcesses(5)))
	for _, m := range msgs {
		vt, err := m.MarshalVT()
		if err != nil {
			t.Fatalf("MarshalVT(%T): %v", m, err)
		}
		ref, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatalf("proto.Marshal(%T): %v", m, err)
		}
		if !bytes.Equal(vt, ref) {
			t.Errorf("%T: vtprotobuf and protobuf encodings differ\nvt  %x\nref %x", m, vt, ref)
		}
		back := m.ProtoReflect().New().Interface()
		if err := back.(interface{ UnmarshalVT([]byte) error }).UnmarshalVT(vt); err != nil {
			t.Fatalf("UnmarshalVT(%T): %v", m, err)
		}
		if !proto.Equal(m, back) {
			t.Errorf("%T: round trip changed the message\nwant %v\ngot  %v", m, m, back)
		}
	}
}

// TestV2PoolReuse decodes into pooled messages twice and checks that the
// second decode does not leak rows of the first.
func TestV2PoolReuse(t *testing.T) {
	big, _ := (&Response{Id: 1, Body: &Response_Processes{Processes: sampleProcesses(50)}}).MarshalVT()
	small, _ := (&Response{Id: 2, Body: &Response_Processes{Processes: sampleProcesses(3)}}).MarshalVT()
	r := ResponseFromVTPool()
	if err := r.UnmarshalVT(big); err != nil {
		t.Fatal(err)
	}
	r.ReturnToVTPool()
	r = ResponseFromVTPool()
	if err := r.UnmarshalVT(small); err != nil {
		t.Fatal(err)
	}
	if got := len(r.GetProcesses().GetProcesses()); got != 3 || r.Id != 2 {
		t.Fatalf("after reuse: id %d, %d processes; want id 2, 3 processes", r.Id, got)
	}
	if !proto.Equal(r.GetProcesses(), sampleProcesses(3)) {
		t.Fatalf("pooled decode differs: %v", r.GetProcesses())
	}
	r.ReturnToVTPool()
}

func TestCheckHelloAndErrorMapping(t *testing.T) {
	if e := CheckHello(&HelloRequest{ProtocolMajor: ProtocolMajor, ProtocolMinor: 99}); e != nil {
		t.Fatalf("newer minor refused: %v", e)
	}
	e := CheckHello(&HelloRequest{ProtocolMajor: 1})
	if e == nil || e.Code != ErrorCode_ERROR_CODE_PROTOCOL_VERSION || !errors.Is(e, ErrProtocolVersion) || errors.Is(e, ErrBadRequest) {
		t.Fatalf("major 1: %v", e)
	}
	for code, want := range codeSentinels {
		err := fmt.Errorf("call: %w", NewError(code, "x"))
		if !errors.Is(err, want) {
			t.Errorf("%v does not match %v", code, want)
		}
	}
	if got := UnknownPIDError(9).Error(); got != "agent: Process 9 not found (unknown pid)" {
		t.Errorf("Error() = %q", got)
	}
}
