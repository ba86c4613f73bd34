//go:build tools

// Package tools records the main package built from this module so that
// `go mod tidy` keeps its dependencies. scripts/pulumi-tools.sh builds it.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
