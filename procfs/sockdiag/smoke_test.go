package sockdiag

import "testing"

func TestSmoke(t *testing.T) {
	c := NewCollector("/proc")
	for i := 0; i < 2; i++ {
		socks, err := c.Collect(nil, Options{Listening: true, Closed: true, Processes: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range socks {
			t.Logf("%+v", s)
		}
		t.Logf("%+v", c.Stats())
	}
}
