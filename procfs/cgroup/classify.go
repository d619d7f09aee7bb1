package cgroup

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a group is, judged from its path.
type Kind uint8

// Kinds, from least to most specific.
const (
	// KindNone is a group socktop does not recognise: the root, or a
	// directory of some other manager.
	KindNone Kind = iota
	// KindSlice is a systemd slice (system.slice, user-1000.slice, …): a
	// parent of other groups.
	KindSlice
	// KindService is a systemd service or scope outside user.slice.
	KindService
	// KindUser is a user's login session (session-3.scope), user manager
	// (user@1000.service) or another unit under user.slice.
	KindUser
	// KindPod is a Kubernetes pod's group; its containers are groups of
	// their own.
	KindPod
	// KindContainer is a container.
	KindContainer
)

var kindNames = [...]string{"none", "slice", "service", "user", "pod", "container"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MarshalText makes a Kind read as its name in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Runtime names, as Group.Runtime carries them.
const (
	RuntimeDocker     = "docker"
	RuntimePodman     = "podman"
	RuntimeKubernetes = "kubernetes"
	RuntimeContainerd = "containerd"
	RuntimeCRIO       = "crio"
	RuntimeLXC        = "lxc"
	RuntimeSystemd    = "systemd"
	RuntimeUser       = "user"
	RuntimeSlice      = "slice"
)

// Group is a cgroup classified from its path.
type Group struct {
	Kind Kind `json:"kind"`
	// Runtime is one of the Runtime* names; "" for KindNone. A container in
	// a Kubernetes pod is "kubernetes" whatever its engine.
	Runtime string `json:"runtime,omitempty"`
	// ID is the container id (64 hex), the LXC container's name, the pod's
	// UID, or the unit's name.
	ID string `json:"id,omitempty"`
	// ShortID is the first 12 characters of a container id; "" otherwise.
	ShortID string `json:"short_id,omitempty"`
	// Name is the default display name: the short id of a container (the
	// runtime's API may know a better one), the name of an LXC container,
	// the unit or slice name, the pod UID.
	Name string `json:"name,omitempty"`
	// Pod is the UID of the Kubernetes pod a container belongs to.
	Pod string `json:"pod,omitempty"`
	// Path is the group's cgroup path: the classified path cut after the
	// segment that names the group, so every process below a container's
	// or service's group (docker-<id>.scope/init.scope) maps to it.
	Path string `json:"path"`
}

// Bounds on what Classify looks at; longer paths are not groups we know.
const (
	maxPathLen   = 4096
	maxSegments  = 64
	maxNameBytes = 128
	idLen        = 64
	shortIDLen   = 12
)

// match is what classification found, as offsets into the path so that
// ProcessPath can rank lines without allocating.
type match struct {
	kind       Kind
	runtime    string
	end        int // the group's path is path[:end]
	idLo, idHi int // the id is path[idLo:idHi]
	podLo      int // the raw pod uid is path[podLo:podHi] ('_' for '-' when systemd-escaped)
	podHi      int
}

// Classify says what the group at path is. The rules, first match wins:
//   - a container: the outermost segment naming one (docker-<id>.scope,
//     /docker/<id>, libpod-<id>.scope, cri-containerd-<id>.scope,
//     crio-<id>.scope, lxc.payload.NAME, /lxc/NAME, a bare <id> in a
//     Kubernetes pod); everything below it belongs to it. Podman's and
//     CRI-O's monitors (libpod-conmon-…, crio-conmon-…) and LXC's
//     (lxc.monitor.…) are not containers;
//   - a Kubernetes pod (kubepods…/pod<uid>, kubepods-…-pod<uid>.slice);
//   - the outermost systemd unit (NAME.service, NAME.scope): KindUser under
//     user.slice, else KindService;
//   - a path ending in a slice;
//   - else KindNone.
//
// A path that is not valid UTF-8, or too long, is KindNone.
func Classify(path string) Group {
	m := classify(path)
	g := Group{Kind: m.kind, Runtime: m.runtime, Path: path[:m.end]}
	if m.kind == KindNone {
		if !utf8.ValidString(path) {
			g.Path = strings.ToValidUTF8(path, "\uFFFD")
		}
		return g
	}
	g.ID = path[m.idLo:m.idHi]
	g.Name = g.ID
	if m.podHi > m.podLo {
		g.Pod = strings.ReplaceAll(path[m.podLo:m.podHi], "_", "-")
		if m.kind == KindPod {
			g.ID, g.Name = g.Pod, g.Pod
		}
	}
	if m.kind == KindContainer && m.runtime != RuntimeLXC {
		g.ShortID = g.ID[:shortIDLen]
		g.Name = g.ShortID
	}
	return g
}

func classify(path string) match {
	none := match{end: len(path)}
	if len(path) > maxPathLen || !strings.HasPrefix(path, "/") || !utf8.ValidString(path) {
		return none
	}
	var (
		kube, userSlice bool
		pod, unit       match
		podN            int    // the pod's segment number
		last            string // the last segment
		prev            string
		n               int
	)
	for lo := 1; lo < len(path); {
		hi := strings.IndexByte(path[lo:], '/')
		if hi < 0 {
			hi = len(path)
		} else {
			hi += lo
		}
		seg := path[lo:hi]
		if n++; n > maxSegments {
			return none
		}
		if c, ok := container(seg, prev, pod.kind == KindPod && podN == n-1); ok {
			c.idLo += lo
			c.idHi += lo
			c.end = hi
			if kube || pod.kind == KindPod {
				c.runtime = RuntimeKubernetes
				c.podLo, c.podHi = pod.podLo, pod.podHi
			}
			return c
		}
		switch {
		case seg == "kubepods" || (strings.HasPrefix(seg, "kubepods") && strings.HasSuffix(seg, ".slice") && pod.kind == KindNone && !strings.Contains(seg, "-pod")):
			kube = true
		case kube && pod.kind == KindNone:
			if ulo, uhi, ok := podUID(seg); ok {
				pod = match{kind: KindPod, runtime: RuntimeKubernetes, end: hi, idLo: lo, podLo: lo + ulo, podHi: lo + uhi}
				podN = n
			}
		case seg == "user.slice" && n == 1:
			userSlice = true
		}
		if unit.kind == KindNone && isUnit(seg) {
			unit = match{kind: KindService, runtime: RuntimeSystemd, end: hi, idLo: lo, idHi: hi}
			if userSlice {
				unit.kind, unit.runtime = KindUser, RuntimeUser
			}
		}
		prev, last = seg, seg
		lo = hi + 1
	}
	switch {
	case pod.kind == KindPod:
		pod.idHi = pod.end
		return pod
	case unit.kind != KindNone:
		return unit
	case strings.HasSuffix(last, ".slice") && len(last) > len(".slice") && printable(last):
		return match{kind: KindSlice, runtime: RuntimeSlice, end: len(path), idLo: len(path) - len(last), idHi: len(path)}
	}
	return none
}

// container recognises a segment naming a container; prev is the segment
// above it and inPod tells whether that is a Kubernetes pod's. Offsets in
// the result are relative to seg.
func container(seg, prev string, inPod bool) (match, bool) {
	type form struct{ prefix, runtime string }
	for _, f := range [...]form{
		{"docker-", RuntimeDocker},
		{"libpod-payload-", RuntimePodman}, // podman --cgroups=split inside a service
		{"libpod-", RuntimePodman},
		{"cri-containerd-", RuntimeContainerd},
		{"crio-", RuntimeCRIO},
	} {
		if id, ok := strings.CutPrefix(seg, f.prefix); ok {
			id = strings.TrimSuffix(id, ".scope")
			if isID(id) {
				return match{kind: KindContainer, runtime: f.runtime, idLo: len(f.prefix), idHi: len(f.prefix) + idLen}, true
			}
		}
	}
	if isID(seg) && (prev == "docker" || inPod) {
		rt := RuntimeDocker
		if inPod {
			rt = RuntimeKubernetes
		}
		return match{kind: KindContainer, runtime: rt, idHi: idLen}, true
	}
	if name, ok := strings.CutPrefix(seg, "lxc.payload."); ok && lxcName(name) {
		return match{kind: KindContainer, runtime: RuntimeLXC, idLo: len("lxc.payload."), idHi: len(seg)}, true
	}
	if prev == "lxc" && lxcName(seg) && !strings.HasPrefix(seg, "lxc.") {
		return match{kind: KindContainer, runtime: RuntimeLXC, idHi: len(seg)}, true
	}
	return match{}, false
}

// podUID finds the pod UID in a pod segment: pod<uid> (cgroupfs driver) or
// kubepods[-qos]-pod<uid>.slice (systemd driver, '-' escaped as '_').
func podUID(seg string) (lo, hi int, ok bool) {
	switch {
	case strings.HasPrefix(seg, "pod"):
		lo, hi = len("pod"), len(seg)
	case strings.HasPrefix(seg, "kubepods-") && strings.HasSuffix(seg, ".slice"):
		i := strings.LastIndex(seg, "-pod")
		if i < 0 {
			return 0, 0, false
		}
		lo, hi = i+len("-pod"), len(seg)-len(".slice")
	default:
		return 0, 0, false
	}
	uid := seg[lo:hi]
	if len(uid) == 0 || len(uid) > idLen {
		return 0, 0, false
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; !isHex(c) && c != '-' && c != '_' {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

func isHex(c byte) bool { return c-'0' < 10 || c-'a' < 6 }

// isID reports whether s is a full container id: 64 lowercase hex digits.
func isID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// isUnit reports whether seg names a systemd service or scope.
func isUnit(seg string) bool {
	for _, suf := range [...]string{".service", ".scope"} {
		if strings.HasSuffix(seg, suf) && len(seg) > len(suf) {
			return printable(seg)
		}
	}
	return false
}

// lxcName reports whether s may be shown as an LXC container's name.
func lxcName(s string) bool { return s != "" && len(s) <= maxNameBytes && printable(s) }

// printable reports whether every rune of s is printable (no control or
// format characters that could steer a terminal).
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
