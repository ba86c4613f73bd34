//go:build tools

// Package tools records the main package built from this module so that `go mod tidy` keeps its
// dependencies. scripts/pulumi-tools.sh builds it.
//
// The Node.js language host, unmodified upstream code: v3.68.0 is the newest served release in which the
// host is still a package of sdk/v3 (later it became a module of its own, which the proxy does not serve).
// It only starts @pulumi/pulumi's own `cmd/run` (3.270 here) and lists plugins; the engine (3.274.1) falls
// back to the older RPCs it implements.
package tools

import (
	_ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
)
