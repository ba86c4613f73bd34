"""The compute cloud's shared resources, idempotently (find or create): flavor m1.verify; the flat network
`provider` (subnet 10.99.0.0/24, DHCP pool .100-.200, gateway 10.99.0.1 = the namespace's bridge), which is
also the external network floating IPs come from; and, as most private clouds have it, the tenant network
`tenant` (10.100.0.0/24, a `local` network: one compute host) behind the router `router`, whose gateway is
on `provider` (and whose namespace serves the metadata address to the tenant network).

Run by start.sh --compute once the APIs answer, as admin through openstacksdk (one process, one token).
Env: OS_CLIENT_CONFIG_FILE (the cloud's clouds.yaml), DISK_GB (the flavor's root disk).
"""
import os

import openstack

conn = openstack.connect(cloud="local")

flavor = conn.compute.find_flavor("m1.verify")
if flavor is None:
    conn.compute.create_flavor(name="m1.verify", vcpus=1, ram=768,
                               disk=int(os.environ["DISK_GB"]), is_public=True)

net = conn.network.find_network("provider")
if net is None:
    net = conn.network.create_network(
        name="provider", shared=True, is_router_external=True, provider_network_type="flat",
        provider_physical_network="physnet1")
if not list(conn.network.subnets(network_id=net.id)):
    conn.network.create_subnet(
        name="provider-v4", network_id=net.id, ip_version=4, cidr="10.99.0.0/24",
        gateway_ip="10.99.0.1", enable_dhcp=True,
        allocation_pools=[{"start": "10.99.0.100", "end": "10.99.0.200"}])

tenant = conn.network.find_network("tenant")
if tenant is None:
    # Shared, so the member project's stacks may boot on it too; a real cloud's would be the project's own.
    tenant = conn.network.create_network(name="tenant", shared=True, provider_network_type="local")
tenant_subnet = next(iter(conn.network.subnets(network_id=tenant.id)), None)
if tenant_subnet is None:
    tenant_subnet = conn.network.create_subnet(
        name="tenant-v4", network_id=tenant.id, ip_version=4, cidr="10.100.0.0/24",
        gateway_ip="10.100.0.1", enable_dhcp=True, dns_nameservers=[])
router = conn.network.find_router("router")
if router is None:
    router = conn.network.create_router(name="router", external_gateway_info={"network_id": net.id})
    conn.network.add_interface_to_router(router, subnet_id=tenant_subnet.id)
