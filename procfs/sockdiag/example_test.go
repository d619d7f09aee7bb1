package sockdiag_test

import (
	"fmt"
	"log"

	"github.com/socktop/socktop/procfs/sockdiag"
)

// One Collector per agent, called at most once per cache TTL: the
// inode → process map is kept between calls.
func ExampleCollector_Collect() {
	c := sockdiag.NewCollector("/proc")
	socks, err := c.Collect(nil, sockdiag.Options{TCP: true, UDP: true, Processes: true})
	if err != nil {
		log.Fatal(err)
	}
	if st := c.Stats(); !st.Netlink {
		log.Printf("netlink refused (%v): listing from /proc/net, no counters", st.NetlinkErr)
	}
	for _, s := range socks {
		if s.CountersAvailable {
			fmt.Printf("%s %v → %v %s pid=%d %s out=%d in=%d rtt=%dµs\n", s.Proto, s.Local, s.Remote,
				s.State, s.PID, s.Process, s.BytesAcked, s.BytesReceived, s.RTTMicros)
		} else {
			fmt.Printf("%s %v → %v %s pid=%d %s (traffic not counted)\n", s.Proto, s.Local, s.Remote,
				s.State, s.PID, s.Process)
		}
	}
}
