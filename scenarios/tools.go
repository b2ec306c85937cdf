//go:build tools

// Keeps the Ginkgo CLI's dependencies in go.mod, so `make scenarios` (go
// run .../ginkgo) works from a clean checkout.
package scenarios

import _ "github.com/onsi/ginkgo/v2/ginkgo"
