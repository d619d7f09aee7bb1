package wire

// What the text dialects' decoders share with the agent's encoders
// (package dialect): journald's level names.

// priorityNames are journald's syslog levels as upstream spells them.
var priorityNames = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Info", "Debug"}

// PriorityName returns upstream's name of a syslog level (0..7); anything
// else is "Info", journald's default.
func PriorityName(p uint32) string {
	if p < uint32(len(priorityNames)) {
		return priorityNames[p]
	}
	return "Info"
}
