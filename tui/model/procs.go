package model

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var nan = math.NaN()

// ProcRow is one row of the process table, derived from the agent's list.
type ProcRow struct {
	PID, PPID uint32
	Name      string
	User      string
	State     string
	CPU       float64
	RSS       uint64
	MemPct    float64
	Threads   uint32
	Start     uint64 // start time (Unix s): a signal names the process by pid and this
	Command   string // the command line, when the agent sent it
	Nice      int32
	Ticks     uint64 // CPU time used, in the list's ticks (utime+stime)
	Container string // the container or service it belongs to ("" for none)
	// NetIn and NetOut are its TCP bytes received and sent per second,
	// DiskRead and DiskWrite its storage I/O per second, from the agent's
	// cumulative counters in two samples; NaN (drawn "-") when unknown:
	// not asked for, not readable by the agent, or first seen.
	NetIn, NetOut, DiskRead, DiskWrite float64
	Depth                              int    // tree depth when the tree view is on (-1: a container's head row)
	Prefix                             string // tree branch drawing
}

// ProcCol identifies a process table column (the order they are drawn in).
type ProcCol int

const (
	ColPID ProcCol = iota
	ColUser
	ColName
	ColState
	ColCPU
	ColMem
	ColMemPct
	ColThreads
	ColNice
	ColTime
	ColNetIn
	ColNetOut
	ColDiskRead
	ColDiskWrite
	ColCommand
	ColContainer
	NumProcCols
)

// CompareProcs orders two rows by column c, then by pid.
func CompareProcs(a, b *ProcRow, c ProcCol) int {
	var r int
	switch c {
	case ColPID:
		r = cmp.Compare(a.PID, b.PID)
	case ColUser:
		r = CompareFold(a.User, b.User)
	case ColName:
		r = CompareFold(a.Name, b.Name)
	case ColState:
		r = CompareFold(a.State, b.State)
	case ColCPU:
		r = cmp.Compare(a.CPU, b.CPU)
	case ColMem, ColMemPct:
		r = cmp.Compare(a.RSS, b.RSS)
	case ColThreads:
		r = cmp.Compare(a.Threads, b.Threads)
	case ColNice:
		r = cmp.Compare(a.Nice, b.Nice)
	case ColTime:
		r = cmp.Compare(a.Ticks, b.Ticks)
	case ColNetIn:
		r = compareRate(a.NetIn, b.NetIn)
	case ColNetOut:
		r = compareRate(a.NetOut, b.NetOut)
	case ColDiskRead:
		r = compareRate(a.DiskRead, b.DiskRead)
	case ColDiskWrite:
		r = compareRate(a.DiskWrite, b.DiskWrite)
	case ColCommand:
		r = CompareFold(a.CommandText(), b.CommandText())
	case ColContainer:
		r = CompareFold(a.Container, b.Container)
	}
	if r == 0 {
		r = cmp.Compare(a.PID, b.PID)
	}
	return r
}

// compareRate orders rates with the unknown (NaN) below every known one.
func compareRate(a, b float64) int { return cmp.Compare(a, b) }

// IsTraffic reports whether c is one of the traffic and I/O columns,
// whose data the agent sends only when asked (ProcessExtras net and io).
func (c ProcCol) IsTraffic() bool { return c >= ColNetIn && c <= ColDiskWrite }

// CompareFold compares case-insensitively without allocating.
func CompareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if la, lb := unicode.ToLower(ra), unicode.ToLower(rb); la != lb {
			return cmp.Compare(la, lb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// CommandText is the command line, or the name when the agent sent none
// (kernel threads have none; upstream agents send none at all).
func (r *ProcRow) CommandText() string {
	if r.Command != "" {
		return r.Command
	}
	return r.Name
}

// ProcFilter is a parsed `/` filter: a substring of the name, the command
// line (its arguments too) or the pid, or pid:N / user:NAME / container:NAME.
type ProcFilter struct {
	text string
	pid  uint32
	user string
	kind int // 0 none, 1 text, 2 pid, 3 user, 4 container
}

// Empty reports whether the filter lets every row through.
func (f ProcFilter) Empty() bool { return f.kind == 0 }

// Text reports whether the filter matches text (names and command lines),
// which then needs the command lines to match arguments.
func (f ProcFilter) Text() bool { return f.kind == 1 }

// ParseFilter parses what the user typed after /.
func ParseFilter(s string) ProcFilter {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return ProcFilter{}
	case strings.HasPrefix(strings.ToLower(s), "pid:"):
		v := strings.TrimSpace(s[4:])
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return ProcFilter{kind: 1, text: strings.ToLower(s)}
		}
		return ProcFilter{kind: 2, pid: uint32(n)}
	case strings.HasPrefix(strings.ToLower(s), "user:"):
		return ProcFilter{kind: 3, user: strings.ToLower(strings.TrimSpace(s[5:]))}
	case strings.HasPrefix(strings.ToLower(s), "container:"):
		return ProcFilter{kind: 4, text: strings.TrimSpace(s[len("container:"):])}
	}
	return ProcFilter{kind: 1, text: strings.ToLower(s)}
}

// Match reports whether r passes the filter.
func (f ProcFilter) Match(r *ProcRow) bool {
	switch f.kind {
	case 1:
		return ContainsFold(r.Name, f.text) || ContainsFold(r.Command, f.text) ||
			strings.Contains(strconv.FormatUint(uint64(r.PID), 10), f.text)
	case 2:
		return r.PID == f.pid
	case 3:
		return strings.EqualFold(r.User, f.user) || (f.user != "" && ContainsFold(r.User, f.user))
	case 4:
		return matchContainer(r.Container, f.text)
	}
	return true
}

// matchContainer is container:NAME: the container's whole name (any case),
// or its start when NAME ends in '*' (container:pi* for pihole);
// container:- matches processes in none.
func matchContainer(c, name string) bool {
	if name == "-" {
		return c == ""
	}
	if prefix, ok := strings.CutSuffix(name, "*"); ok {
		return len(c) >= len(prefix) && strings.EqualFold(c[:len(prefix)], prefix) && c != ""
	}
	return c != "" && strings.EqualFold(c, name)
}

// ContainsFold is a case-insensitive substring test; needle is lower case.
func ContainsFold(hay, needle string) bool {
	if needle == "" {
		return true
	}
	for i := 0; i+len(needle) <= len(hay); i++ {
		if strings.EqualFold(hay[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

// BuildView builds the visible row order: filtered, sorted, and in tree mode
// depth-first under each parent with siblings sorted. It reuses dst.
func BuildView(dst []*ProcRow, rows []ProcRow, f ProcFilter, col ProcCol, desc, tree bool) []*ProcRow {
	dst = dst[:0]
	less := func(a, b *ProcRow) int {
		r := CompareProcs(a, b, col)
		if desc {
			return -r
		}
		return r
	}
	if !tree {
		for i := range rows {
			if f.Match(&rows[i]) {
				dst = append(dst, &rows[i])
			}
		}
		slices.SortFunc(dst, less)
		return dst
	}
	byPID := make(map[uint32]*ProcRow, len(rows))
	for i := range rows {
		byPID[rows[i].PID] = &rows[i]
	}
	children := make(map[uint32][]*ProcRow, len(rows)/2)
	var roots []*ProcRow
	for i := range rows {
		r := &rows[i]
		if _, ok := byPID[r.PPID]; ok && r.PPID != r.PID {
			children[r.PPID] = append(children[r.PPID], r)
		} else {
			roots = append(roots, r)
		}
	}
	// With a filter, keep a row when it or any descendant matches, so the
	// matches stay in context.
	keep := map[uint32]bool{}
	if f.kind != 0 {
		var mark func(r *ProcRow, seen int) bool
		mark = func(r *ProcRow, seen int) bool {
			k := f.Match(r)
			if seen < 512 { // bounded depth: a ppid cycle cannot loop
				for _, c := range children[r.PID] {
					if mark(c, seen+1) {
						k = true
					}
				}
			}
			keep[r.PID] = k
			return k
		}
		for _, r := range roots {
			mark(r, 0)
		}
	}
	slices.SortFunc(roots, less)
	var walk func(r *ProcRow, depth int, prefix string, last bool)
	walk = func(r *ProcRow, depth int, prefix string, last bool) {
		if f.kind != 0 && !keep[r.PID] {
			return
		}
		r.Depth = depth
		switch {
		case depth == 0:
			r.Prefix = ""
		case last:
			r.Prefix = prefix + "└─"
		default:
			r.Prefix = prefix + "├─"
		}
		dst = append(dst, r)
		if depth >= 512 {
			return
		}
		kids := children[r.PID]
		slices.SortFunc(kids, less)
		next := prefix
		if depth > 0 {
			if last {
				next += "  "
			} else {
				next += "│ "
			}
		}
		visible := kids
		if f.kind != 0 {
			visible = visible[:0:0]
			for _, k := range kids {
				if keep[k.PID] {
					visible = append(visible, k)
				}
			}
		}
		for i, k := range visible {
			walk(k, depth+1, next, i == len(visible)-1)
		}
	}
	for i, r := range roots {
		walk(r, 0, "", i == len(roots)-1)
	}
	return dst
}
