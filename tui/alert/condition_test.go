package alert

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseCondition(t *testing.T) {
	for in, want := range map[string]Condition{
		"cpu > 90":                    {CPU, "", Above, 90},
		"CPU>90":                      {CPU, "", Above, 90},
		"  mem >= 95% ":               {Mem, "", AtLeast, 95},
		"swap > 50":                   {Swap, "", Above, 50},
		"load1 > 4":                   {Load1, "", Above, 4},
		"load1 <= 0.5":                {Load1, "", AtMost, 0.5},
		"temp > 80":                   {Temp, "", Above, 80},
		"temp > 80C":                  {Temp, "", Above, 80},
		"temp < -10 °C":               {Temp, "", Below, -10},
		"disk > 95":                   {Disk, "", Above, 95},
		"disk:/data > 90":             {Disk, "/data", Above, 90},
		"disk:/data/ >= 90":           {Disk, "/data", AtLeast, 90},
		"disk: / > 90":                {Disk, "/", Above, 90},
		"disk:/media/My Disk > 90":    {Disk, "/media/My Disk", Above, 90},
		`disk:"/mnt/a>b" > 90`:        {Disk, "/mnt/a>b", Above, 90},
		"net_rx > 10M":                {NetRx, "", Above, 10e6},
		"net_rx > 10MB/s":             {NetRx, "", Above, 10e6},
		"net_tx > 1.5MiB":             {NetTx, "", Above, 1.5 * (1 << 20)},
		"net_tx > 2 Ki":               {NetTx, "", Above, 2048},
		"net_rx < 500":                {NetRx, "", Below, 500},
		"net_rx > 1k":                 {NetRx, "", Above, 1000},
		"net_rx > 3G":                 {NetRx, "", Above, 3e9},
		"net_rx >= 1TiB/s":            {NetRx, "", AtLeast, 1 << 40},
		"process:nginx":               {Process, "nginx", 0, 0},
		"process: nginx ":             {Process, "nginx", 0, 0},
		"process:Web Content":         {Process, "Web Content", 0, 0},
		`process:"tmux: server"`:      {Process, "tmux: server", 0, 0},
		`process:"a > b"`:             {Process, "a > b", 0, 0},
		"Process:systemd-journald":    {Process, "systemd-journald", 0, 0},
		"down":                        {Down, "", 0, 0},
		" DOWN ":                      {Down, "", 0, 0},
		"cpu > 0":                     {CPU, "", Above, 0},
		"cpu > 100":                   {CPU, "", Above, 100},
		"cpu>-0":                      {CPU, "", Above, 0},
		"mem < 12.75":                 {Mem, "", Below, 12.75},
		"disk:/a:b > 1":               {Disk, "/a:b", Above, 1},
		"process:name:with:colons":    {Process, "name:with:colons", 0, 0},
		"process:\"\\u00e9t\\u00e9\"": {Process, "été", 0, 0},
	} {
		got, err := ParseCondition(in)
		if err != nil || got != want {
			t.Errorf("ParseCondition(%q) = %+v, %v; want %+v", in, got, err, want)
			continue
		}
		// What String writes parses back to the same condition.
		if back, err := ParseCondition(got.String()); err != nil || back != got {
			t.Errorf("ParseCondition(%q.String() = %q) = %+v, %v", in, got.String(), back, err)
		}
	}
}

func TestParseConditionErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "empty",
		"cpu":                 "cpu needs a comparison, like cpu > 90",
		"cpu 90":              `expected > >= < or <= after cpu, found "90"`,
		"cpu = 90":            `"=" is not an operator`,
		"cpu == 90":           `"==" is not an operator`,
		"cpu != 90":           `"!=" is not an operator`,
		"cpu => 90":           `"=>" is not an operator`,
		"cpu >> 90":           "expected a number",
		"cpu > ninety":        "expected a number",
		"cpu > 150":           "outside 0..100",
		"cpu > -1":            "outside 0..100",
		"cpu > 90 MB":         "cpu is a percentage",
		"cpu > NaN":           "expected a number",
		"cpu > Inf":           "expected a number",
		"cpu > 1e3":           "cpu is a percentage",
		"cpu > 0x10":          "cpu is a percentage",
		"cpu > 1.2.3":         "expected a number",
		"cpu > 5.":            "expected a number",
		"cpu > .":             "expected a number",
		"cpu > 90 for 1m":     `its own key: for = "1m"`,
		"cpu > 90for 1m":      `its own key`,
		"cpu:0 > 90":          "cpu takes no :ARGUMENT",
		"gpu > 90":            `unknown metric "gpu"`,
		"> 90":                "does not start with a metric",
		"temp > 80F":          "temp is in °C",
		"temp > 400":          "outside -100..300",
		"load1 > 4%":          "load1 takes a plain number",
		"net_rx > 10Mb":       "capital B",
		"net_rx > 10Mbit/s":   "bits are not taken",
		"net_rx > 10X":        `unknown unit "X"`,
		"net_rx > 10MMB":      "unknown unit",
		"net_rx > 10iB":       "unknown unit",
		"net_rx > -1":         "outside 0..",
		"net_rx > 2000T":      "outside 0..",
		"disk:data > 90":      "a mount point starts with /",
		"disk: > 90":          "empty",
		"disk:/data":          "disk needs a comparison",
		`disk:"/data > 90`:    "bad or unterminated quoted name",
		`disk:"/d\q" > 90`:    "bad or unterminated quoted name",
		"process":             "write process:NAME",
		"process:":            "empty",
		"process:nginx > 0":   "process:NAME takes no comparison",
		`process:"nginx" > 0`: "process:NAME takes no comparison",
		"down > 1":            "down takes nothing after it",
		"down for 1m":         "down takes nothing after it",
		"cpu > 9\x00":         "control characters",
		"cpu > \xff":          "invalid UTF-8",
		"cpu > 123456789012345678901234567890123":  "expected a number",
		"process:" + strings.Repeat("n", MaxArg+1): "longer than 255",
	} {
		_, err := ParseCondition(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCondition(%q) error %v, want it to contain %q", in, err, want)
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseCondition(%q) error %v does not wrap ErrSyntax", in, err)
		}
	}
}

func TestMargin(t *testing.T) {
	for in, want := range map[string]float64{
		"cpu > 90":      5,
		"cpu < 20":      2, // 10 % of the threshold is less than 5 points
		"mem > 95":      2,
		"swap > 5":      0.5,
		"swap > 0":      0,
		"disk > 95":     1,
		"temp > 80":     2,
		"temp < -10":    1,
		"load1 > 4":     0.4,
		"net_rx > 10M":  1e6,
		"process:nginx": 0,
		"down":          0,
	} {
		c, err := ParseCondition(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Margin(); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: Margin = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"cpu > 90", "mem >= 95%", "swap > 50", "load1 > 4", "temp > 80", "disk > 95",
		"disk:/data > 90", `disk:"/mnt/a b" <= 3`, "net_rx > 10M", "net_tx > 1.5MiB/s", "process:nginx",
		`process:"Web Content"`, "down", "cpu > 90 for 1m", "net_rx > 10Mbit", "temp < -10°C", "disk:/ > 1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCondition(in)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		info := metricInfo[c.Metric]
		if info.name == "" {
			t.Fatalf("accepted %q as metric %d", in, c.Metric)
		}
		if info.unit != unitNone && (math.IsNaN(c.Threshold) || c.Threshold < info.lo || c.Threshold > info.hi) {
			t.Fatalf("%q: threshold %v outside %v..%v", in, c.Threshold, info.lo, info.hi)
		}
		if len(c.Arg) > MaxArg || strings.ContainsFunc(c.Arg, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Fatalf("%q: argument %q unbounded or with control characters", in, c.Arg)
		}
		back, err := ParseCondition(c.String())
		if err != nil || back != c {
			t.Fatalf("%q → %+v → %q → %+v, %v", in, c, c.String(), back, err)
		}
	})
}
