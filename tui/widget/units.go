package widget

import (
	"strconv"
	"time"
)

var byteUnits = [...]string{"B", "K", "M", "G", "T", "P", "E"}

// Bytes formats n in binary units with at most three significant digits:
// "512B", "1.5K", "23.4M", "931G".
func Bytes(n uint64) string {
	return string(AppendBytes(nil, n))
}

// AppendBytes is Bytes without the allocation.
func AppendBytes(b []byte, n uint64) []byte {
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
	if bps < 0 || bps != bps {
		bps = 0
	}
	return Bytes(uint64(bps)) + "/s"
}

// Percent formats a 0..100 share with one decimal below 10 and none above.
func Percent(p float64) string {
	return string(AppendPercent(nil, p))
}

// AppendPercent is Percent without the allocation.
func AppendPercent(b []byte, p float64) []byte {
	if p != p || p < 0 {
		p = 0
	}
	prec := 1
	if p >= 99.95 {
		prec = 0
	}
	b = strconv.AppendFloat(b, p, 'f', prec, 64)
	return append(b, '%')
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

func pad2(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}
