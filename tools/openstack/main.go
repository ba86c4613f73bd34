// Command pulumi-resource-openstack is the Pulumi OpenStack provider that the
// @pulumi/openstack 3.15.2 SDK talks to, rebuilt from Go modules.
//
// Why it is assembled here: github.com/pulumi/pulumi-openstack/provider/v3 is
// not served by the Go module proxy reachable here (403 for every version), so
// it is rebuilt the same way upstream builds it: terraform-provider-openstack
// v1.54.1 (the version pulumi-openstack 3.15.2 bridges) wrapped by
// pulumi-terraform-bridge, with each Terraform resource mapped to the token of
// the 3.15.2 SDK (tokens.go). Property names come from the bridge's standard
// renaming, as they did upstream.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-provider-openstack/terraform-provider-openstack/openstack"
)

// Version is stamped with -ldflags "-X main.Version=..." by scripts/pulumi-tools.sh.
var Version = "3.15.2"

func main() {
	prov := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(openstack.Provider()),
		Name:        "openstack",
		Version:     Version,
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	for tf, tok := range resourceTokens {
		prov.Resources[tf] = &tfbridge.ResourceInfo{Tok: tokens.Type(tok)}
	}
	for tf, tok := range dataSourceTokens {
		prov.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(tok)}
	}
	// Like upstream: a resource's `name`, when not given, is <resource name>-<random>.
	prov.SetAutonaming(255, "-")

	// No embedded Pulumi schema: the bridge then skips schema-based config
	// type checks, and nothing at run time needs it.
	tfbridge.Main("openstack", Version, prov, nil)
}
