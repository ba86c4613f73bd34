"""Print, as JSON, what a test run may leave behind in the compute cloud (all projects, all users).

One openstacksdk session as admin (cloud `local` of OS_CLIENT_CONFIG_FILE): a handful of list calls in
about a second, where separate `openstack` CLI runs would take several (each re-imports and logs in).
Read-only. Run inside the cloud's namespace by computeCloud.ts.
"""
import json

import openstack

conn = openstack.connect(cloud="local")
# Key pairs belong to users, not projects: ask for each user's (compute API 2.10 and later).
# A cloud without the L3 service has no floating IP API: then there are none.
floating_ips = len(list(conn.network.ips())) if conn.network.find_extension("router") else 0
key_pairs = sum(len(list(conn.compute.keypairs(user_id=u.id))) for u in conn.identity.users())
print(json.dumps({
    "servers": len(list(conn.compute.servers(all_projects=True))),
    "keyPairs": key_pairs,
    "securityGroups": sum(1 for g in conn.network.security_groups() if g.name != "default"),
    "serverPorts": sum(1 for p in conn.network.ports() if (p.device_owner or "").startswith("compute:")),
    "floatingIps": floating_ips,
}))
