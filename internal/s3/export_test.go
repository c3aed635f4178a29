package s3

// Exported for the external test package (clients_test.go), which imports chainindex.

// TestCred is the access key of the package's test gateways.
var TestCred = testCred

// NewTestStore returns a Store in memory.
func NewTestStore() Store { return newMemStore() }
