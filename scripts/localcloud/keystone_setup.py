"""Run the keystone-manage setup steps with a single import of Keystone.

Each `keystone-manage` call spends ~2.4 s of CPU importing Keystone; the four setup steps
(db_sync, fernet_setup, credential_setup, bootstrap) would pay that four times. Here the
parent imports Keystone once and runs each step in a forked child, exactly as
keystone-manage would (same cli.main, same argv). oslo.config parses argv only once per
process, which is why every step needs its own child. The key repositories do not touch
the database, so they are set up while db_sync runs; bootstrap waits for db_sync.

usage: keystone_setup.py KEYSTONE_CONF KEYSTONE_URL REGION   (env: OS_BOOTSTRAP_PASSWORD)
"""
import os
import sys

from keystone.cmd import cli

conf, url, region = sys.argv[1:4]


def start(*step):
    pid = os.fork()
    if pid == 0:
        try:
            cli.main(["keystone-manage", "--config-file", conf, *step])
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # skip the parent's atexit handlers and eventlet teardown noise
    return step[0], pid


def join(job):
    name, pid = job
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code:
        sys.exit(f"keystone-manage {name} failed (exit {code})")


owner = ["--keystone-user", "root", "--keystone-group", "root"]
jobs = [start("fernet_setup", *owner), start("credential_setup", *owner)]
join(start("db_sync"))
bootstrap = start("bootstrap", "--bootstrap-username", "admin",
                  "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                  "--bootstrap-service-name", "keystone", "--bootstrap-region-id", region,
                  "--bootstrap-admin-url", url, "--bootstrap-internal-url", url,
                  "--bootstrap-public-url", url)
for job in jobs + [bootstrap]:
    join(job)
