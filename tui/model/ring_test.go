package model

import "testing"

func TestRing(t *testing.T) {
	r := NewRing(3)
	if r.Last() != 0 || r.Avg(0) != 0 {
		t.Fatal("empty ring should read 0")
	}
	for _, v := range []float64{1, 2, 3, 4} {
		r.Push(v)
	}
	if r.Len() != 3 || r.At(0) != 2 || r.Last() != 4 {
		t.Fatalf("ring = len %d first %v last %v, want 3 2 4", r.Len(), r.At(0), r.Last())
	}
	if r.Max(0) != 4 || r.Avg(0) != 3 || r.Max(1) != 4 || r.Avg(2) != 3.5 {
		t.Fatalf("max %v avg %v", r.Max(0), r.Avg(0))
	}
	if r.Pushed() != 4 { // it counts past the capacity: graphs place samples by it
		t.Errorf("Pushed = %d, want 4", r.Pushed())
	}
	if r.Reset(); r.Pushed() != 0 || r.Len() != 0 {
		t.Errorf("after Reset: %d pushed, %d held", r.Pushed(), r.Len())
	}
}
