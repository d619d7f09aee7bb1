// Package alert is the dashboard's rules engine: the `when` language of
// profiles.toml's [[alerts]], and a state machine per (rule, host) that turns
// a host's samples into firing and resolved events. It is pure: no screen,
// no network, no goroutines; the caller feeds samples and a clock.
package alert

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Metric is what a condition looks at.
type Metric uint8

// The metrics a `when` can name.
const (
	CPU     Metric = iota + 1 // cpu: whole-machine busy %, 0..100
	Mem                       // mem: memory used %, (total − available) ÷ total
	Swap                      // swap: swap used % (a host without swap reads 0 %)
	Load1                     // load1: 1-minute load average
	Temp                      // temp: the hottest temperature sensor, °C
	Disk                      // disk: the fullest filesystem's used %; disk:/PATH one filesystem
	NetRx                     // net_rx: bytes/s received, all interfaces
	NetTx                     // net_tx: bytes/s sent, all interfaces
	Process                   // process:NAME: holds while no process of that name runs
	Down                      // down: holds while the host is unreachable or its data is stale
)

type unitKind uint8

const (
	unitPercent unitKind = iota + 1
	unitCelsius
	unitPlain
	unitBytesPerSec
	unitNone // process, down: no comparison
)

// metricInfo describes each metric: its name, its unit, the range a
// threshold may take, and its hysteresis (see Condition.Margin).
var metricInfo = [...]struct {
	name   string
	unit   unitKind
	lo, hi float64
	margin float64 // the most a firing alert's value may come back past its threshold and still fire
}{
	CPU:     {"cpu", unitPercent, 0, 100, 5},
	Mem:     {"mem", unitPercent, 0, 100, 2},
	Swap:    {"swap", unitPercent, 0, 100, 2},
	Load1:   {"load1", unitPlain, 0, 1e6, math.Inf(1)},
	Temp:    {"temp", unitCelsius, -100, 300, 2},
	Disk:    {"disk", unitPercent, 0, 100, 1},
	NetRx:   {"net_rx", unitBytesPerSec, 0, 1e15, math.Inf(1)},
	NetTx:   {"net_tx", unitBytesPerSec, 0, 1e15, math.Inf(1)},
	Process: {"process", unitNone, 0, 0, 0},
	Down:    {"down", unitNone, 0, 0, 0},
}

func (m Metric) String() string {
	if int(m) < len(metricInfo) && metricInfo[m].name != "" {
		return metricInfo[m].name
	}
	return fmt.Sprintf("Metric(%d)", m)
}

// Op compares a metric with a threshold.
type Op uint8

// The comparisons.
const (
	Above   Op = iota + 1 // >
	AtLeast               // >=
	Below                 // <
	AtMost                // <=
)

func (o Op) String() string {
	switch o {
	case Above:
		return ">"
	case AtLeast:
		return ">="
	case Below:
		return "<"
	case AtMost:
		return "<="
	}
	return "?"
}

// Condition is a parsed `when`.
type Condition struct {
	Metric Metric
	// Arg is the filesystem of disk:PATH or the process name of process:NAME.
	Arg string
	// Op and Threshold compare the metric; unused by process and down.
	Op        Op
	Threshold float64
}

// MaxArg bounds a mount point or process name in a condition.
const MaxArg = 255

// ErrSyntax is wrapped by every ParseCondition error.
var ErrSyntax = errors.New("bad alert condition")

func syntaxErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, args...))
}

const conditionHelp = "write METRIC OP NUMBER (cpu > 90, mem >= 95, swap > 50, load1 > 4, temp > 80, disk > 95, " +
	"disk:/data > 90, net_rx > 10M, net_tx > 1.5MiB), process:NAME or down"

// ParseCondition reads a `when` expression:
//
//	cpu > 90            mem >= 95%         swap > 50        load1 > 4
//	temp > 80           disk > 95          disk:/data > 90  disk:"/mnt/my disk" >= 99
//	net_rx > 10M        net_tx > 1.5MiB    process:nginx    process:"Web Content"
//	down
//
// Metric names are case-insensitive; operators are > >= < <=. Percent
// metrics take 0..100 with an optional %, temp takes °C (an optional C or
// °C), net rates take bytes/s with an optional SI (K M G T, ×1000) or IEC
// (Ki Mi Gi Ti, ×1024) prefix, an optional B and an optional /s.
// A mount point or process name holding '<', '>' or '"', or spaces at its
// ends, is written in double quotes (Go escapes).
func ParseCondition(s string) (Condition, error) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return Condition{}, syntaxErr("control characters or invalid UTF-8")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Condition{}, syntaxErr("empty; %s", conditionHelp)
	}
	n := 0
	for n < len(s) && (s[n] == '_' || s[n] >= '0' && s[n] <= '9' || s[n]|0x20 >= 'a' && s[n]|0x20 <= 'z') {
		n++
	}
	name, rest := strings.ToLower(s[:n]), s[n:]
	m := metricByName(name)
	if m == 0 {
		if name == "" {
			return Condition{}, syntaxErr("%q does not start with a metric; %s", s, conditionHelp)
		}
		return Condition{}, syntaxErr("unknown metric %q; %s", s[:n], conditionHelp)
	}
	c := Condition{Metric: m}
	switch m {
	case Down:
		if strings.TrimSpace(rest) != "" {
			return Condition{}, syntaxErr(`down takes nothing after it (how long is for = "1m")`)
		}
		return c, nil
	case Process:
		arg, ok := strings.CutPrefix(rest, ":")
		if !ok {
			return Condition{}, syntaxErr(`write process:NAME (it fires while no process named NAME runs)`)
		}
		name, tail, err := readArg(strings.TrimSpace(arg), false)
		if err != nil {
			return Condition{}, err
		}
		if tail != "" {
			return Condition{}, syntaxErr("process:NAME takes no comparison (it fires while no process named NAME runs); quote a name holding < or >")
		}
		c.Arg = name
		return c, nil
	case Disk:
		if arg, ok := strings.CutPrefix(rest, ":"); ok {
			mount, tail, err := readArg(strings.TrimSpace(arg), true)
			if err != nil {
				return Condition{}, err
			}
			if !strings.HasPrefix(mount, "/") {
				return Condition{}, syntaxErr("disk:%s: a mount point starts with /", mount)
			}
			c.Arg, rest = cleanMount(mount), tail
		}
	}
	if strings.HasPrefix(rest, ":") {
		return Condition{}, syntaxErr("%s takes no :ARGUMENT (only disk:PATH and process:NAME do)", m)
	}
	op, rest, err := readOp(strings.TrimSpace(rest), m)
	if err != nil {
		return Condition{}, err
	}
	c.Op = op
	v, err := readThreshold(strings.TrimSpace(rest), m)
	if err != nil {
		return Condition{}, err
	}
	c.Threshold = v
	return c, nil
}

func metricByName(name string) Metric {
	for m := range metricInfo {
		if m > 0 && metricInfo[m].name == name {
			return Metric(m)
		}
	}
	return 0
}

// readArg reads a mount point or process name: a Go-quoted string, or the
// text up to the operator (untilOp) or the end.
func readArg(s string, untilOp bool) (arg, tail string, err error) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", "", syntaxErr("bad or unterminated quoted name in %s (Go quoting: \\\" and \\\\ inside)", s)
		}
		arg, _ = strconv.Unquote(q)
		tail = strings.TrimSpace(s[len(q):])
	} else {
		end := len(s)
		if untilOp {
			if i := strings.IndexAny(s, "<>=!"); i >= 0 {
				end = i
			}
		} else if strings.ContainsAny(s, `<>"`) {
			return "", "", syntaxErr("process:NAME takes no comparison (it fires while no process named NAME runs); quote a name holding < > or \"")
		}
		arg, tail = strings.TrimSpace(s[:end]), s[end:]
	}
	switch {
	case arg == "":
		return "", "", syntaxErr("the name after ':' is empty")
	case len(arg) > MaxArg:
		return "", "", syntaxErr("the name after ':' is longer than %d bytes", MaxArg)
	case !utf8.ValidString(arg) || strings.ContainsFunc(arg, unicode.IsControl):
		return "", "", syntaxErr("the name after ':' holds control characters or invalid UTF-8")
	}
	return arg, tail, nil
}

// cleanMount drops trailing slashes so disk:/data/ names /data.
func cleanMount(m string) string {
	for len(m) > 1 && strings.HasSuffix(m, "/") {
		m = m[:len(m)-1]
	}
	return m
}

func readOp(s string, m Metric) (Op, string, error) {
	for _, o := range []struct {
		text string
		op   Op
	}{{">=", AtLeast}, {"<=", AtMost}, {">", Above}, {"<", Below}} {
		if rest, ok := strings.CutPrefix(s, o.text); ok {
			return o.op, rest, nil
		}
	}
	for _, bad := range []string{"==", "!=", "=>", "=<", "="} {
		if strings.HasPrefix(s, bad) {
			return 0, "", syntaxErr("%q is not an operator: use > >= < <=", bad)
		}
	}
	if s == "" {
		return 0, "", syntaxErr("%s needs a comparison, like %s > %s", m, m, example(m))
	}
	return 0, "", syntaxErr("expected > >= < or <= after %s, found %q", m, s)
}

func example(m Metric) string {
	switch metricInfo[m].unit {
	case unitCelsius:
		return "80"
	case unitPlain:
		return "4"
	case unitBytesPerSec:
		return "10M"
	}
	return "90"
}

// readThreshold reads a number (digits, an optional fraction, an optional
// leading '-'; no exponents, no NaN) and the metric's unit.
func readThreshold(s string, m Metric) (float64, error) {
	info := metricInfo[m]
	n := 0
	if strings.HasPrefix(s, "-") {
		n++
	}
	digits := 0
	for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '.') {
		if s[n] != '.' {
			digits++
		}
		n++
	}
	num, unit := s[:n], strings.TrimSpace(s[n:])
	if digits == 0 || strings.Count(num, ".") > 1 || strings.HasSuffix(num, ".") || len(num) > 32 {
		if strings.Contains(s, " for ") || strings.HasPrefix(unit, "for ") {
			return 0, syntaxErr("put the duration in its own key: for = \"1m\"")
		}
		return 0, syntaxErr("%s: expected a number after the operator, found %q", m, s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, syntaxErr("%s: bad number %q", m, num)
	}
	if strings.HasPrefix(unit, "for ") || unit == "for" {
		return 0, syntaxErr("put the duration in its own key: for = \"1m\"")
	}
	mult, err := unitMultiplier(unit, info.unit, m)
	if err != nil {
		return 0, err
	}
	v *= mult
	if v < info.lo || v > info.hi {
		return 0, syntaxErr("%s threshold %s is outside %s..%s", m, s, fmtNum(info.lo), fmtNum(info.hi))
	}
	if v == 0 {
		v = 0 // no -0
	}
	return v, nil
}

func unitMultiplier(unit string, kind unitKind, m Metric) (float64, error) {
	if unit == "" {
		return 1, nil
	}
	switch kind {
	case unitPercent:
		if unit == "%" {
			return 1, nil
		}
		return 0, syntaxErr("%s is a percentage (0..100, an optional %%), not %q", m, unit)
	case unitCelsius:
		if unit == "C" || unit == "°C" || unit == "°" {
			return 1, nil
		}
		return 0, syntaxErr("temp is in °C (an optional C), not %q", unit)
	case unitBytesPerSec:
		u := strings.TrimSuffix(unit, "/s")
		u, _ = strings.CutSuffix(u, "B")
		if strings.HasSuffix(u, "b") || strings.HasSuffix(strings.ToLower(u), "bit") {
			return 0, syntaxErr("%s is in bytes/s: write %q with a capital B, or no B (bits are not taken)", m, strings.TrimRight(unit, "bits/")+"B")
		}
		mult := 1.0
		if p, ok := strings.CutSuffix(u, "i"); ok && p != "" {
			mult, u = 1024, p
		} else if u != "" {
			mult = 1000
		}
		exp := strings.Index("KMGT", strings.ToUpper(u))
		switch {
		case u == "":
			return 1, nil
		case len(u) != 1 || exp < 0:
			return 0, syntaxErr("%s: unknown unit %q (use K, M, G, T for ×1000 or Ki, Mi, Gi, Ti for ×1024, an optional B and /s)", m, unit)
		}
		return math.Pow(mult, float64(exp+1)), nil
	}
	return 0, syntaxErr("%s takes a plain number, not %q", m, unit)
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// String writes c back in the form ParseCondition reads (net rates in
// bytes/s without a prefix).
func (c Condition) String() string {
	var b strings.Builder
	b.WriteString(c.Metric.String())
	if c.Arg != "" {
		b.WriteByte(':')
		if c.Arg != strings.TrimSpace(c.Arg) || strings.ContainsAny(c.Arg, `<>=!"\`) {
			b.WriteString(strconv.Quote(c.Arg))
		} else {
			b.WriteString(c.Arg)
		}
	}
	if metricInfo[c.Metric].unit != unitNone {
		b.WriteByte(' ')
		b.WriteString(c.Op.String())
		b.WriteByte(' ')
		b.WriteString(fmtNum(c.Threshold))
	}
	return b.String()
}

// Margin is the hysteresis of a firing alert: it keeps firing until its
// value is more than Margin back past the threshold (below it for > and >=,
// above it for < and <=), so a value that hovers on the edge does not flap.
// It is the metric's fixed delta — cpu 5 points, mem and swap 2, disk 1,
// temp 2 °C — but never more than 10 % of the threshold; load1 and the net
// rates use 10 % of the threshold. process and down have none.
func (c Condition) Margin() float64 {
	info := metricInfo[c.Metric]
	if info.unit == unitNone {
		return 0
	}
	return min(info.margin, math.Abs(c.Threshold)*0.1)
}

// holds reports whether v meets the condition, its threshold moved back by
// margin (0 for the plain test, Margin() while firing).
func (c Condition) holds(v, margin float64) bool {
	switch c.Op {
	case Above:
		return v > c.Threshold-margin
	case AtLeast:
		return v >= c.Threshold-margin
	case Below:
		return v < c.Threshold+margin
	case AtMost:
		return v <= c.Threshold+margin
	}
	return false
}
