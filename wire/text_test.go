package wire

import (
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
)

// An error message may quote what a peer sent or what the machine holds;
// it must still decode with a validating decoder.
func TestNewErrorIsValidUTF8(t *testing.T) {
	e := NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "unknown thing %s", "a\xffb\xc3")
	if !utf8.ValidString(e.Message) || e.Message != "unknown thing a\uFFFDb\uFFFD" {
		t.Fatalf("message %q", e.Message)
	}
	var r Response
	if err := proto.Unmarshal(AppendResponse(nil, &Response{Id: 1, Body: &Response_Error{Error: e}}), &r); err != nil {
		t.Fatal(err)
	}
}
