package shell

import (
	"testing"

	"github.com/gdamore/tcell/v2"
)

// putCounter is a terminal screen that counts the cells handed to it.
type putCounter struct {
	tcell.SimulationScreen
	puts int
}

func (p *putCounter) Put(x, y int, str string, st tcell.Style) (string, int) {
	p.puts++
	return p.SimulationScreen.Put(x, y, str, st)
}

// A frame drawn as tview draws it — clear, fill, text over the fill — hands
// the terminal only the cells whose final content changed: none for the
// same frame again, one for one changed character, and the terminal holds
// exactly what was drawn.
func TestFrameScreenHandsOnlyChangedCells(t *testing.T) {
	sim := tcell.NewSimulationScreen("UTF-8")
	pc := &putCounter{SimulationScreen: sim}
	f := newFrameScreen(pc)
	if err := f.Init(); err != nil {
		t.Fatal(err)
	}
	sim.SetSize(20, 3)
	draw := func(text string) int {
		pc.puts = 0
		f.Clear()
		for x := range 20 {
			f.SetContent(x, 1, '─', nil, tcell.StyleDefault.Foreground(tcell.ColorRed))
		}
		f.PutStrStyled(2, 1, text, tcell.StyleDefault.Bold(true))
		f.Show()
		return pc.puts
	}
	if n := draw("cpu 12.5%"); n != 60 {
		t.Errorf("first frame handed %d cells, want all 60", n)
	}
	if n := draw("cpu 12.5%"); n != 0 {
		t.Errorf("the same frame again handed %d cells, want 0", n)
	}
	if n := draw("cpu 12.6%"); n != 1 {
		t.Errorf("one changed digit handed %d cells, want 1", n)
	}
	cells, w, _ := sim.GetContents()
	got := ""
	for x := range w {
		got += string(cells[w+x].Runes)
	}
	if want := "──cpu 12.6%─────────"; got != want {
		t.Errorf("terminal row is %q, want %q", got, want)
	}
	if r, _, st, _ := f.GetContent(3, 1); r != 'p' || st != tcell.StyleDefault.Bold(true) {
		t.Errorf("GetContent(3,1) = %q %v, want the frame's own p, bold", r, st)
	}
	sim.SetSize(10, 2) // a resize hands everything again
	if n := draw("x"); n != 20 {
		t.Errorf("after a resize %d cells handed, want 20", n)
	}
}

// A terminal that shrank and grew back between two frames lost the cells
// outside the small size: the resize events make the next frame, of the
// old size, hand every cell again, so none stays blank.
func TestFrameScreenRepaintsAfterShrinkAndGrow(t *testing.T) {
	sim := tcell.NewSimulationScreen("UTF-8")
	f := newFrameScreen(sim)
	if err := f.Init(); err != nil {
		t.Fatal(err)
	}
	sim.SetSize(20, 2)
	draw := func() {
		f.Clear()
		f.PutStrStyled(0, 0, "left            righ", tcell.StyleDefault)
		f.Show()
	}
	draw()
	for _, size := range [][2]int{{8, 2}, {20, 2}} {
		sim.SetSize(size[0], size[1])
		if err := sim.PostEvent(tcell.NewEventResize(size[0], size[1])); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.PollEvent().(*tcell.EventResize); !ok {
			t.Fatal("PollEvent did not pass the resize on")
		}
	}
	draw()
	cells, w, _ := sim.GetContents()
	got := ""
	for x := range w {
		got += string(cells[x].Runes)
	}
	if want := "left            righ"; got != want {
		t.Errorf("after shrinking and growing back the terminal shows %q, want %q", got, want)
	}
}
