package shell

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

const waitLimit = 15 * time.Second

// recorder logs the hooks of screens.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) screen(name string, overlay bool) *Screen {
	add := func(what string) func() {
		return func() { r.mu.Lock(); r.log = append(r.log, what+" "+name); r.mu.Unlock() }
	}
	return &Screen{Name: name, View: tview.NewBox(), Overlay: overlay, Shown: add("shown"), Hidden: add("hidden")}
}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.log, ", ")
	r.log = nil
	return s
}

// A screen is told when it becomes visible and when it stops being: an
// overlay leaves the screen below visible, a full screen hides it.
func TestShownHiddenFollowTheStack(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	sh := New(context.Background(), Options{Screen: scr})
	var r recorder
	a, b, c := r.screen("A", false), r.screen("B", true), r.screen("C", false)
	for _, step := range []struct {
		do   func()
		want string
	}{
		{func() { sh.Push(a) }, "shown A"},
		{func() { sh.Push(b) }, "shown B"},
		{func() { sh.Push(c) }, "hidden B, hidden A, shown C"},
		{sh.Pop, "hidden C, shown A, shown B"},
		{sh.Pop, "hidden B"},
		{sh.Pop, ""}, // the last screen stays; popping it quits
	} {
		step.do()
		if got := r.take(); got != step.want {
			t.Errorf("hooks %q, want %q", got, step.want)
		}
	}
	if sh.Context().Err() == nil {
		t.Error("popping the last screen did not quit")
	}
}

// Quit cancels the context, waits for every goroutine started through Go,
// and only then stops the application: a goroutine that still posts while
// it winds down finds the event loop alive.
func TestQuitCancelsWaitsThenStops(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	sh := New(context.Background(), Options{Screen: scr, Frame: time.Millisecond})
	sh.Push(&Screen{Name: "main", View: tview.NewBox(), Keys: []Binding{{Keys: Runes('q'), Label: "q", Hint: "quit", Do: sh.Quit}}})
	alive := make(chan bool, 1)
	started := make(chan struct{})
	sh.OnStart(func() {
		sh.Go(func(ctx context.Context) {
			close(started)
			<-ctx.Done()
			time.Sleep(100 * time.Millisecond) // winding down
			ran := make(chan struct{})
			go sh.App().QueueUpdate(func() { close(ran) })
			select {
			case <-ran:
				alive <- true
			case <-time.After(waitLimit):
				alive <- false
			}
		})
	})
	done := make(chan error, 1)
	go func() { done <- sh.Run() }()
	<-started
	scr.InjectKey(tcell.KeyRune, 'q', 0)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after q")
	}
	if !<-alive {
		t.Error("the application stopped before a goroutine had ended")
	}
	if sh.Go(func(context.Context) {}) {
		t.Error("Go started a goroutine after the shell quit")
	}
}

// Posts gathered within a frame are applied together, in order, on the
// UI goroutine.
func TestPostBatchesInOrder(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	sh := New(context.Background(), Options{Screen: scr, Frame: 50 * time.Millisecond})
	sh.Push(&Screen{Name: "main", View: tview.NewBox()})
	var got []int
	finished := make(chan struct{})
	sh.OnStart(func() {
		sh.Go(func(ctx context.Context) {
			for i := range 1000 {
				sh.Post(func() { got = append(got, i) })
			}
			sh.Post(func() { close(finished) })
		})
	})
	done := make(chan error, 1)
	go func() { done <- sh.Run() }()
	select {
	case <-finished:
	case <-time.After(waitLimit):
		t.Fatal("the posts never ran")
	}
	sh.Quit()
	<-done
	if len(got) != 1000 {
		t.Fatalf("%d of 1000 posts ran", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("post %d ran as number %d", v, i)
		}
	}
}

// Every runs on the UI goroutine, again and again, each time in a batch
// that is drawn: what it flashes reaches the footer.
func TestEveryRunsWithTheClock(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	sh := New(context.Background(), Options{Screen: scr})
	sh.Push(&Screen{Name: "main", View: tview.NewBox()})
	n := 0
	sh.Every(func() {
		n++
		sh.Flash("tick " + strconv.Itoa(n))
	})
	done := make(chan error, 1)
	go func() { done <- sh.Run() }()
	defer func() { sh.Quit(); <-done }()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(screenText(scr, sh), "tick 3") {
		if time.Now().After(deadline) {
			t.Fatalf("the footer never said tick 3:\n%s", screenText(scr, sh))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenText reads the screen on the UI goroutine.
func screenText(scr tcell.SimulationScreen, sh *Shell) string {
	var b strings.Builder
	ran := make(chan struct{})
	go sh.App().QueueUpdate(func() {
		cells, w, h := scr.GetContents()
		for y := range h {
			for x := range w {
				if c := cells[y*w+x]; len(c.Runes) > 0 {
					b.WriteRune(c.Runes[0])
				}
			}
			b.WriteByte('\n')
		}
		close(ran)
	})
	<-ran
	return b.String()
}
