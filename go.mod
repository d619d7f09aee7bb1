module github.com/socktop/socktop

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/coder/websocket v1.8.15
	github.com/gdamore/tcell/v2 v2.13.10
	github.com/mattn/go-runewidth v0.0.16
	github.com/planetscale/vtprotobuf v0.6.0
	github.com/rivo/tview v0.42.0
	github.com/tklauser/go-sysconf v0.4.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.37.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/gdamore/encoding v1.0.1 // indirect
	github.com/lucasb-eyer/go-colorful v1.3.0 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/tklauser/numcpus v0.12.0 // indirect
	golang.org/x/text v0.31.0 // indirect
)
