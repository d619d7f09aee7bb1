package agent

import (
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/socktop/socktop/procfs/sockdiag"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// SnapshotJSON renders a sample as `socktop snapshot` prints it, for
// scripts and jq: the v2 schema's field names in the schema's order;
// numbers as JSON numbers, 64-bit counters too (jq '.mem_used /
// .mem_total' works); floats rounded to two decimals; enums by name
// without their type's prefix ("transport": "tcp", "family": "inet6"); a
// socket's state as ss names it ("ESTAB", "TIME-WAIT"); socket addresses
// as IP text; an unset optional value or message as null; lists as [],
// never null. It walks the message through protobuf reflection, so a new
// kind's snapshot needs nothing of its own. indent "" gives one line.
func SnapshotJSON(m proto.Message, indent string) []byte {
	p := jsonPrinter{indent: indent}
	p.message(m.ProtoReflect())
	return p.b
}

type jsonPrinter struct {
	b      []byte
	indent string
	depth  int
}

// connectionState is the field printed with ss's state names.
const connectionState protoreflect.FullName = "socktop.v2.Connection.state"

func (p *jsonPrinter) newline() {
	if p.indent == "" {
		return
	}
	p.b = append(p.b, '\n')
	for range p.depth {
		p.b = append(p.b, p.indent...)
	}
}

func (p *jsonPrinter) message(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	if fields.Len() == 0 {
		p.b = append(p.b, "{}"...)
		return
	}
	p.b = append(p.b, '{')
	p.depth++
	for i := range fields.Len() {
		fd := fields.Get(i)
		if i > 0 {
			p.b = append(p.b, ',')
		}
		p.newline()
		p.string(string(fd.Name()))
		p.b = append(p.b, ':')
		if p.indent != "" {
			p.b = append(p.b, ' ')
		}
		switch {
		case fd.IsList():
			p.list(fd, m.Get(fd).List())
		case fd.IsMap():
			p.mapValue(fd, m.Get(fd).Map())
		case fd.HasPresence() && !m.Has(fd):
			p.b = append(p.b, "null"...)
		default:
			p.value(fd, m.Get(fd))
		}
	}
	p.depth--
	p.newline()
	p.b = append(p.b, '}')
}

func (p *jsonPrinter) list(fd protoreflect.FieldDescriptor, l protoreflect.List) {
	if l.Len() == 0 {
		p.b = append(p.b, "[]"...)
		return
	}
	// Lists of numbers stay on one line; lists of objects get a line each.
	nested := fd.Kind() == protoreflect.MessageKind
	p.b = append(p.b, '[')
	p.depth++
	for i := range l.Len() {
		if i > 0 {
			p.b = append(p.b, ',')
		}
		if nested {
			p.newline()
		}
		p.value(fd, l.Get(i))
	}
	p.depth--
	if nested {
		p.newline()
	}
	p.b = append(p.b, ']')
}

func (p *jsonPrinter) mapValue(fd protoreflect.FieldDescriptor, m protoreflect.Map) {
	p.b = append(p.b, '{')
	first := true
	m.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		if !first {
			p.b = append(p.b, ',')
		}
		first = false
		p.string(k.String())
		p.b = append(p.b, ':')
		p.value(fd.MapValue(), v)
		return true
	})
	p.b = append(p.b, '}')
}

func (p *jsonPrinter) value(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	if fd.FullName() == connectionState {
		p.string(sockdiag.State(v.Uint()).String())
		return
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		p.b = strconv.AppendBool(p.b, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		p.b = strconv.AppendInt(p.b, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		p.b = strconv.AppendUint(p.b, v.Uint(), 10)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		p.float(v.Float())
	case protoreflect.StringKind:
		p.string(v.String())
	case protoreflect.BytesKind:
		p.bytes(fd, v.Bytes())
	case protoreflect.EnumKind:
		p.string(enumName(fd.Enum(), v.Enum()))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		p.message(v.Message())
	}
}

// float writes f rounded to two decimals; NaN and ±Inf, which JSON cannot
// carry, are null.
func (p *jsonPrinter) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		p.b = append(p.b, "null"...)
		return
	}
	f = math.Round(f*100) / 100
	if f == 0 {
		f = 0 // not -0
	}
	p.b = strconv.AppendFloat(p.b, f, 'f', -1, 64)
}

// bytes writes an address field (…addr, 4 or 16 bytes) as IP text, other
// bytes as base64.
func (p *jsonPrinter) bytes(fd protoreflect.FieldDescriptor, b []byte) {
	if strings.HasSuffix(string(fd.Name()), "addr") {
		if ip, ok := netip.AddrFromSlice(b); ok {
			p.string(ip.Unmap().String())
			return
		}
	}
	p.string(base64.StdEncoding.EncodeToString(b))
}

// enumName is a value's name without its enum's prefix, lower case
// (Transport's TRANSPORT_TCP is "tcp"), or its number when unnamed.
func enumName(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) string {
	v := ed.Values().ByNumber(n)
	if v == nil {
		return strconv.Itoa(int(n))
	}
	return strings.ToLower(strings.TrimPrefix(string(v.Name()), screamingSnake(string(ed.Name()))+"_"))
}

// screamingSnake spells a CamelCase name as protobuf's enum value prefixes
// do: AddressFamily → ADDRESS_FAMILY.
func screamingSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// string writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func (p *jsonPrinter) string(s string) {
	const hex = "0123456789abcdef"
	p.b = append(p.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				p.b = append(p.b, '\\', c)
			case c == '\n':
				p.b = append(p.b, '\\', 'n')
			case c == '\t':
				p.b = append(p.b, '\\', 't')
			case c == '\r':
				p.b = append(p.b, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				p.b = append(p.b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				p.b = append(p.b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			p.b = append(p.b, "\ufffd"...)
		} else {
			p.b = append(p.b, s[i:i+n]...)
		}
		i += n
	}
	p.b = append(p.b, '"')
}
