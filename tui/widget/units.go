package widget

import (
	"math"
	"strconv"
	"time"
)

// Values from an agent are drawn through these helpers only, so one rule
// holds everywhere: a value that cannot be (NaN, ±Inf, a float beyond
// ±1e15, a byte count from 2^63 up such as an "unknown" 2^64−1) is drawn as
// "-", and a negative amount is drawn as 0.

// maxFloat bounds the floats worth drawing: beyond it a figure is noise
// (or hostile) and would only overflow its column.
const maxFloat = 1e15

// Valid reports whether v is a number worth drawing.
func Valid(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && math.Abs(v) < maxFloat }

// ValidBytes reports whether n is a byte count worth drawing.
func ValidBytes(n uint64) bool { return n < 1<<63 }

var byteUnits = [...]string{"B", "K", "M", "G", "T", "P", "E"}

// Bytes formats n in binary units with at most three significant digits:
// "512B", "1.5K", "23.4M", "931G".
func Bytes(n uint64) string {
	return string(AppendBytes(nil, n))
}

// AppendBytes is Bytes without the allocation.
func AppendBytes(b []byte, n uint64) []byte {
	if !ValidBytes(n) {
		return append(b, '-')
	}
	if n < 1024 {
		b = strconv.AppendUint(b, n, 10)
		return append(b, 'B')
	}
	v := float64(n)
	u := 0
	for v >= 1024 && u < len(byteUnits)-1 {
		v /= 1024
		u++
	}
	prec := 1
	if v >= 100 {
		prec = 0
	}
	b = strconv.AppendFloat(b, v, 'f', prec, 64)
	return append(b, byteUnits[u]...)
}

// Rate formats bytes per second: "0B/s", "1.2M/s".
func Rate(bps float64) string {
	if !Valid(bps) {
		return "-"
	}
	return Bytes(uint64(max(bps, 0))) + "/s"
}

// Percent formats a 0..100 share with one decimal below 100 and none above.
func Percent(p float64) string {
	return string(AppendPercent(nil, p))
}

// AppendPercent is Percent without the allocation.
func AppendPercent(b []byte, p float64) []byte {
	if !Valid(p) {
		return append(b, '-')
	}
	p = max(p, 0)
	prec := 1
	if p >= 99.95 {
		prec = 0
	}
	b = strconv.AppendFloat(b, p, 'f', prec, 64)
	return append(b, '%')
}

// AppendNumber formats v with prec decimals ("12.5"), "-" when it cannot be.
func AppendNumber(b []byte, v float64, prec int) []byte {
	if !Valid(v) {
		return append(b, '-')
	}
	return strconv.AppendFloat(b, max(v, 0), 'f', prec, 64)
}

// Number is AppendNumber as a string.
func Number(v float64, prec int) string { return string(AppendNumber(nil, v, prec)) }

// Share is part of whole as a fraction (0..1), NaN when it cannot be: no
// whole, a part beyond it, or either too large to be a byte count.
func Share(part, whole uint64) float64 {
	if whole == 0 || part > whole || !ValidBytes(whole) {
		return math.NaN()
	}
	return float64(part) / float64(whole)
}

// Celsius formats a temperature, rounded: "54°C"; "-" outside what a
// sensor can read.
func Celsius(v float64) string {
	if !Valid(v) || v < -273.15 || v > 10000 {
		return "-"
	}
	return strconv.Itoa(int(math.Round(v))) + "°C"
}

// Duration formats a span as people read uptimes: "45s", "12m", "3h04m",
// "12d 3h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return strconv.FormatInt(s/60, 10) + "m" + pad2(s%60) + "s"
	case s < 86400:
		return strconv.FormatInt(s/3600, 10) + "h" + pad2(s%3600/60) + "m"
	}
	return strconv.FormatInt(s/86400, 10) + "d " + strconv.FormatInt(s%86400/3600, 10) + "h"
}

// Seconds turns a float count of seconds from an agent into a span, 0 when
// it cannot be one.
func Seconds(s float64) time.Duration {
	if !Valid(s) || s <= 0 || s > float64(math.MaxInt64/int64(time.Second)) {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

func pad2(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// Latency formats a round trip: 450µs, 1.2ms, 35ms.
func Latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// Count is a count in human units: 999, 12.3k, 4.5M.
func Count(n uint64) string {
	switch {
	case n < 10000:
		return strconv.FormatUint(n, 10)
	case n < 1000000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	case n < 1000000000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	case n >= 1<<63:
		return "-"
	}
	return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + "G"
}

// Micros is a time from microseconds: 45µs, 1.2ms, 230ms, 1.5s.
func Micros(us uint32) string {
	switch {
	case us < 1000:
		return strconv.Itoa(int(us)) + "µs"
	case us < 100000:
		return strconv.FormatFloat(float64(us)/1000, 'f', 1, 64) + "ms"
	case us < 1000000:
		return strconv.Itoa(int(us/1000)) + "ms"
	}
	return strconv.FormatFloat(float64(us)/1e6, 'f', 1, 64) + "s"
}

// AppendCPUTime formats CPU time given in ticks of hz per second as top's
// TIME+ does: "0:01.23", "12:34.56"; from 100 minutes "1234:56"; from
// 10000 minutes "234h". "-" when hz is 0 (the unit is unknown).
func AppendCPUTime(b []byte, ticks uint64, hz uint32) []byte {
	if hz == 0 || ticks/uint64(hz) > 1e12 { // beyond 30000 years: not a CPU time
		return append(b, '-')
	}
	cs := ticks/uint64(hz)*100 + ticks%uint64(hz)*100/uint64(hz)
	sec, min := cs/100, cs/6000
	switch {
	case min < 100:
		b = strconv.AppendUint(b, min, 10)
		b = append(b, ':')
		b = appendPad2(b, sec%60)
		b = append(b, '.')
		return appendPad2(b, cs%100)
	case min < 10000:
		b = strconv.AppendUint(b, min, 10)
		b = append(b, ':')
		return appendPad2(b, sec%60)
	}
	b = strconv.AppendUint(b, sec/3600, 10)
	return append(b, 'h')
}

func appendPad2(b []byte, v uint64) []byte {
	if v < 10 {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, v, 10)
}
