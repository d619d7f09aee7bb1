package shell

import "github.com/gdamore/tcell/v2"

// Key is one key a binding answers to: a special key, or a rune.
type Key struct {
	K tcell.Key
	R rune
}

// Match reports whether ev is this key.
func (k Key) Match(ev *tcell.EventKey) bool {
	if k.R != 0 {
		return ev.Key() == tcell.KeyRune && ev.Rune() == k.R
	}
	return ev.Key() == k.K
}

// Runes are keys that type these characters.
func Runes(rs ...rune) []Key {
	out := make([]Key, len(rs))
	for i, r := range rs {
		out[i] = Key{R: r}
	}
	return out
}

// Special are keys without a character: arrows, Enter, Esc…
func Special(ks ...tcell.Key) []Key {
	out := make([]Key, len(ks))
	for i, k := range ks {
		out[i] = Key{K: k}
	}
	return out
}

// Keys joins key lists.
func Keys(groups ...[]Key) []Key {
	var out []Key
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// Binding is one entry of a screen's key map: the footer and the help are
// generated from the key maps, so they cannot drift from what keys do.
type Binding struct {
	Keys  []Key
	Label string // the keys as shown: "↑/↓"
	Hint  string // short footer text; "" keeps it out of the footer
	// HintNow, when set, is the footer text now (what the key would do
	// now: "clear filter", "fleet"); "" keeps it out of the footer.
	HintNow func() string
	// HintLabel replaces Label in the footer ("h/l" for a pair)
	HintLabel string
	Desc      string // help text
	// When, if set, says whether the binding applies now (the agent
	// advertises signals, say); the help still lists it, with WhenText.
	When     func() bool
	WhenText string
	// Do runs the binding; DoKey, set instead, also gets the key (one
	// binding for ↑ and ↓). With neither the key goes on to the focused
	// primitive (typing into an input field, scrolling a text): it is
	// listed so the help names it.
	Do    func()
	DoKey func(ev *tcell.EventKey)
}

// Section is a titled list of bindings in the help.
type Section struct {
	Name string
	Keys []Binding
}

// dispatch runs the binding of keys that matches ev and reports whether
// the key was used; pass is true when it should go on to the focused
// primitive.
func dispatch(keys []Binding, ev *tcell.EventKey) (pass bool) {
	for i := range keys {
		b := &keys[i]
		for _, k := range b.Keys {
			if !k.Match(ev) {
				continue
			}
			if b.Do == nil && b.DoKey == nil {
				return true
			}
			if b.When != nil && !b.When() {
				return false
			}
			if b.DoKey != nil {
				b.DoKey(ev)
			} else {
				b.Do()
			}
			return false
		}
	}
	return true
}
