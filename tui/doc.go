// Package tui is socktop's terminal dashboard: one agent's CPU, memory,
// network, disks, sensors and processes, or a fleet of agents, drawn with
// rivo/tview on tcell.
//
// Its rooms, and the one way their imports go:
//
//	tui ──► screen ──► shell ──► widget
//	           ├─────► model ──► wire
//	           │         └─────► alert
//	           ├─────► alert/notify ──► alert ──► wire, profiles
//	           └─────► widget
//
// What each room is:
//
//   - widget draws: graphs, gauges, the one table every list uses, the
//     theme, and the formatting every value is drawn through. It knows
//     nothing of agents.
//   - model is what is known about each agent and how it is learnt: a Host
//     holds the samples and the histories and rates derived from them; a
//     Watcher per agent owns its connection and fetches or subscribes to
//     what the visible screens need. It is the only code that talks to an
//     agent, and it draws nothing.
//   - shell is the one application: the tview application, the context and
//     wait group every background goroutine is counted in, the one batched
//     post through which they reach the UI, the quit order (cancel, wait,
//     stop), the key dispatch, and the header, footer and help painters,
//     over a stack of screens. It knows nothing of agents either.
//   - screen holds the screens (dashboard, process detail, connections,
//     dialogs, fleet overview), each a shell.Screen value with its key map
//     and the shown/hidden hooks that tell its watcher what it needs, and
//     puts them on a shell: one host, or a fleet whose members' dashboards
//     are pushed on the fleet's shell.
//   - alert is the alert rules engine over hosts' samples, and alert/notify
//     runs the notify commands; they know nothing of the screens. The model
//     feeds the engine (every sample a Host takes); the screens tick it,
//     show what fires and run notify.
//   - tui (this package) is the dashboard's API: Run, RunFleet, the picker
//     (Pick) and Probe. The command line that resolves what the user typed
//     into agents, `socktop connect`, is main's (cmd_connect.go).
//
// tui never reads /proc and never imports the agent; the demo is main
// wiring an in-process agent to the dashboard over a real loopback
// WebSocket.
package tui
