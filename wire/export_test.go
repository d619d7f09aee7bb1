package wire

// The client's text-dialect decoders, for the tests in package wire_test
// that hold them to what the agent's encoders (wire/dialect) send.
var (
	DecodeMetricsJSON       = decodeMetricsJSON
	DecodeDisksJSON         = decodeDisksJSON
	DecodeProcessDetailJSON = decodeProcessDetailJSON
	DecodeJournalJSON       = decodeJournalJSON
	DecodeProcessList       = decodeProcessList
)
