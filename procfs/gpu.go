package procfs

import "sync"

// gpuCache remembers what GPU probing found, so a machine without a GPU is
// probed once, not per request.
type gpuCache struct {
	mu     sync.Mutex
	probed bool
}
