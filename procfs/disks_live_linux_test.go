package procfs

import "testing"

func TestLiveDisks(t *testing.T) {
	fs := liveFS(t)
	ds, err := fs.Disks(nil)
	if err != nil {
		t.Fatal(err)
	}
	root := false
	seen := map[string]bool{}
	for _, d := range ds {
		t.Logf("%+v", d)
		if seen[d.Name] {
			t.Errorf("device %s listed twice", d.Name)
		}
		seen[d.Name] = true
		if d.MountPoint == "/" {
			root = true
			if d.Total == 0 || d.Available > d.Total {
				t.Errorf("root sizes %+v", d)
			}
		}
		if pseudoFS[d.FSType] {
			t.Errorf("pseudo fs listed: %+v", d)
		}
	}
	if !root {
		t.Logf("no / among %d disks (container?)", len(ds))
	}
}
