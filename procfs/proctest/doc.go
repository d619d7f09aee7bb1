// Package proctest holds what tests of /proc readers need from a live
// Linux machine: reading as another user on one thread, a directory on a
// block device, sleeping child processes that never outlive the test.
// Only tests import it.
package proctest
