package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func field(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

func rows(num protowire.Number, n int, v []byte) []byte { return bytes.Repeat(field(num, v), n) }

// Real replies pass; so does a list at the limit.
func TestCheckResponseAcceptsReal(t *testing.T) {
	for _, r := range sampleResponses() {
		if err := CheckResponse(AppendResponse(nil, r)); err != nil {
			t.Errorf("%T: %v", r.Body, err)
		}
	}
	if err := CheckResponse(field(5, rows(2, MaxProcesses, nil))); err != nil {
		t.Errorf("%d processes: %v", MaxProcesses, err)
	}
	// A long history of a machine with many interfaces and disks holds
	// more values than other replies may.
	sample := append(append(rows(11, 64, nil), rows(12, 64, nil)...), rows(14, 32, nil)...)
	if err := CheckResponse(field(11, rows(2, 2000, sample))); err != nil {
		t.Errorf("a history of 2000 samples × 160 values: %v", err)
	}
	if err := CheckResponse(field(6, field(2, rows(21, 2000, rows(22, 160, nil))))); !errors.Is(err, ErrImplausible) {
		t.Errorf("a detail of 2000 children × 160 threads: %v, want the reply budget to refuse it", err)
	}
}

// A message field that is not repeated may come several times; the
// decoder merges them, so their lists add up.
func TestCheckResponseCountsMergedMessages(t *testing.T) {
	half := field(5, rows(2, MaxProcesses/2+1, nil))
	if err := CheckResponse(append(half, half...)); !errors.Is(err, ErrImplausible) || !strings.Contains(err.Error(), "100001 processes") {
		t.Errorf("two bodies of %d rows each: %v", MaxProcesses/2+1, err)
	}
	kids := field(2, rows(21, MaxChildren/2+1, nil)) // ProcessDetail.process, twice
	if err := CheckResponse(field(6, append(kids, kids...))); !errors.Is(err, ErrImplausible) || !strings.Contains(err.Error(), "children") {
		t.Errorf("a detail sent twice with %d children each: %v", MaxChildren/2+1, err)
	}
	// Packed and unpacked values of one repeated field add up too.
	cores := append(field(3, make([]byte, 4*MaxCores)), protowire.AppendFixed32(protowire.AppendTag(nil, 3, protowire.Fixed32Type), 0)...)
	if err := CheckResponse(field(3, cores)); !errors.Is(err, ErrImplausible) {
		t.Errorf("%d cores, packed and not: %v", MaxCores+1, err)
	}
}

func TestCheckJSON(t *testing.T) {
	for _, c := range []struct {
		in       string
		elements int
		ok       bool
	}{
		{`[1,2,3]`, 3, true},
		{`[1,2,3]`, 2, false},
		{`{"a":[],"b":[[],[]]}`, 2, true},
		{`{"a":[],"b":[[],[]]}`, 1, false},
		{`["a]\"[,,,", {"x":[1]}]`, 3, true},
		{`["a]\"[,,,", {"x":[1]}]`, 2, false},
		{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), 100, true},
		{strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), 100, false},
	} {
		if err := checkJSON([]byte(c.in), c.elements); (err == nil) != c.ok {
			t.Errorf("checkJSON(%.40q, %d) = %v, want ok %v", c.in, c.elements, err, c.ok)
		}
	}
}

// FuzzCheckResponse: whatever CheckResponse lets through decodes to lists
// within every limit (the decoder merges what the wire repeats).
func FuzzCheckResponse(f *testing.F) {
	for _, r := range sampleResponses() {
		f.Add(AppendResponse(nil, r))
	}
	f.Add(field(5, rows(2, 3, nil)))
	f.Add(field(6, field(2, rows(21, 3, rows(22, 2, nil)))))
	f.Add(field(3, field(3, make([]byte, 16))))
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckResponse(b) != nil {
			return
		}
		r := &Response{}
		if r.UnmarshalVT(b) != nil {
			return
		}
		total := 0
		if err := withinLimits(r.ProtoReflect(), 0, &total, replyLimit(r)); err != nil {
			t.Fatalf("CheckResponse passed a reply that decodes to %v", err)
		}
	})
}

// replyLimit is the value budget of a decoded reply (History has its own).
func replyLimit(r *Response) int {
	if r.GetHistory() != nil {
		return totalLimits["socktop.v2.History"]
	}
	return maxElements
}

// withinLimits walks a decoded message as the scanner counts its encoding.
func withinLimits(m protoreflect.Message, depth int, total *int, limit int) error {
	var err error
	deep := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsList() {
			deep = true
			n, most := v.List().Len(), maxRepeated
			if l, ok := repeatedLimits[fd.FullName()]; ok {
				most = l.max
			}
			if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind {
				*total += n
			}
			if n > most || *total > limit {
				err = errors.New(string(fd.FullName()) + " too long")
				return false
			}
			if fd.Kind() == protoreflect.MessageKind {
				for i := range n {
					if err = withinLimits(v.List().Get(i).Message(), depth+1, total, limit); err != nil {
						return false
					}
				}
			}
		} else if fd.Kind() == protoreflect.MessageKind {
			deep = true
			err = withinLimits(v.Message(), depth+1, total, limit)
		}
		return err == nil
	})
	if err == nil && deep && depth > maxNesting {
		return errors.New("nested too deep")
	}
	return err
}

// FuzzCheckJSON: whatever checkJSON lets through nests and holds no more
// than it allows.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`[1,[2,3],{"a":[4]}]`, `{"s":"[[[,,,"}`, `[[[[]]]]`, `["\"",1]`, `{"cpu_per_core":[1,2],"networks":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const budget = 20
		if checkJSON(b, budget) != nil || !json.Valid(b) {
			return
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		n, depth := jsonCount(v, 0)
		if n > budget || depth > maxJSONDepth {
			t.Fatalf("checkJSON passed %d array values nested %d deep: %q", n, depth, b)
		}
	})
}

func jsonCount(v any, depth int) (n, maxDepth int) {
	switch x := v.(type) {
	case []any:
		n, maxDepth = len(x), depth+1
		for _, e := range x {
			k, d := jsonCount(e, depth+1)
			n, maxDepth = n+k, max(maxDepth, d)
		}
	case map[string]any:
		maxDepth = depth + 1
		for _, e := range x {
			k, d := jsonCount(e, depth+1)
			n, maxDepth = n+k, max(maxDepth, d)
		}
	default:
		maxDepth = depth
	}
	return n, maxDepth
}
