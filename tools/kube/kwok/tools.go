//go:build tools

// Package tools pins sigs.k8s.io/kwok/cmd/kwok, which ../build.sh compiles.
// kwok lives in its own module so that it keeps the dependency versions its
// release was tested with instead of the Kubernetes release's.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
