"""The compute cloud's shared resources, idempotently (find or create): flavor m1.verify and the flat
network `provider` (subnet 10.99.0.0/24, DHCP pool .100-.200, gateway 10.99.0.1 = the namespace's bridge).

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
        name="provider", shared=True, provider_network_type="flat",
        provider_physical_network="physnet1")
if not list(conn.network.subnets(network_id=net.id)):
    conn.network.create_subnet(
        name="provider-v4", network_id=net.id, ip_version=4, cidr="10.99.0.0/24",
        gateway_ip="10.99.0.1", enable_dhcp=True,
        allocation_pools=[{"start": "10.99.0.100", "end": "10.99.0.200"}])
