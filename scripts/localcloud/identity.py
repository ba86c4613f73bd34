"""Create the identity data Glance and the demo user need, idempotently (find or create).

Run once by start.sh after `keystone-manage bootstrap` and after Keystone answers.
One Python process with one token does all of it in ~1-2 s; the same through separate
`openstack` CLI calls takes ~13 s (each call re-imports the client and re-authenticates).
Passwords come from the environment, not argv, so they do not show up in `ps`.

Env: KEYSTONE_URL (http://127.0.0.1:5000/v3), GLANCE_URL, REGION,
     EXTRA_GLANCES (the other regions' Glances: "RegionTwo=http://...,RegionThree=http://...";
     a region left out is not touched),
     ADMIN_PASSWORD, GLANCE_PASSWORD, DEMO_PASSWORD;
     compute mode also NOVA_URL, PLACEMENT_URL, NEUTRON_URL and
     NOVA_PASSWORD, PLACEMENT_PASSWORD, NEUTRON_PASSWORD.
"""
import os

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

env = os.environ
region = env.get("REGION", "RegionOne")
auth = v3.Password(auth_url=env["KEYSTONE_URL"], username="admin",
                   password=env["ADMIN_PASSWORD"], project_name="admin",
                   user_domain_id="default", project_domain_id="default")
ks = client.Client(session=session.Session(auth=auth), interface="public",
                   region_name=region)


def first(items):
    return items[0] if items else None


def project(name):
    return (first(ks.projects.list(name=name, domain="default"))
            or ks.projects.create(name, "default"))


def role(name):
    return first(ks.roles.list(name=name)) or ks.roles.create(name)


def user(name, password, default_project):
    u = first(ks.users.list(name=name, domain="default"))
    if u is None:
        return ks.users.create(name, domain="default", password=password,
                               default_project=default_project)
    # Keep the stored password authoritative if the user already exists.
    return ks.users.update(u, password=password)


def grant(role_, user_, project_):
    # Granting an existing assignment again is a no-op in Keystone (204).
    ks.roles.grant(role_, user=user_, project=project_)


service_project = project("service")
demo_project = project("demo")
admin_role, member_role = role("admin"), role("member")

glance = user("glance", env["GLANCE_PASSWORD"], service_project)
grant(admin_role, glance, service_project)
demo = user("demo", env["DEMO_PASSWORD"], demo_project)
grant(member_role, demo, demo_project)


# The catalog as it is, in two requests (each one costs the start ~50 ms: Keystone serves one at a time).
services = {}
for s in ks.services.list():
    services.setdefault(s.type, s)
catalog = ks.endpoints.list()
have = {(e.service_id, e.region_id, e.interface) for e in catalog}


def service(name, kind, **kw):
    if kind not in services:
        services[kind] = ks.services.create(name, type=kind, **kw)
    return services[kind]


def endpoints(svc, region_, url):
    """public, internal and admin endpoints of SVC in REGION_, all at URL."""
    for interface in ("public", "internal", "admin"):
        if (svc.id, region_, interface) not in have:
            ks.endpoints.create(svc, url, interface=interface, region=region_)


image = service("glance", "image", description="Image service")
endpoints(image, region, env["GLANCE_URL"])
# The other regions: each a Glance of its own, and the one Keystone listed there too (the URL bootstrap
# registered in the first), or a client pinned to one (--os-region-name) finds no identity endpoint.
extra = [item.split("=", 1) for item in env.get("EXTRA_GLANCES", "").split(",") if item]
if extra:
    regions = {r.id for r in ks.regions.list()}
    keystone = services["identity"]
    keystone_url = next(e.url for e in catalog if e.service_id == keystone.id and e.interface == "public")
    for region_, url in extra:
        if region_ not in regions:
            ks.regions.create(id=region_)
        endpoints(image, region_, url)
        endpoints(keystone, region_, keystone_url)

# Compute mode (start.sh --compute): service users and endpoints of Nova, Placement and Neutron.
if env.get("NOVA_PASSWORD"):
    for name, kind, url, secret in (
            ("nova", "compute", env["NOVA_URL"], "NOVA_PASSWORD"),
            ("placement", "placement", env["PLACEMENT_URL"], "PLACEMENT_PASSWORD"),
            ("neutron", "network", env["NEUTRON_URL"], "NEUTRON_PASSWORD")):
        svc_user = user(name, env[secret], service_project)
        # admin to act for the other services, service to be accepted as a service token sender.
        grant(admin_role, svc_user, service_project)
        grant(role("service"), svc_user, service_project)
        endpoints(service(name, kind), region, url)
