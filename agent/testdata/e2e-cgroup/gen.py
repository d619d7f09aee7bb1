#!/usr/bin/env python3
# Writes the overlays that turn two of procfs's fixture trees into machines
# with cgroups, for the agent's end-to-end goldens (python3 gen.py; then
# go test ./agent -run ContainersEndToEnd -update, reading the diff):
#
#   rpi4-docker  procfs's rpi4 with the cgroup v2 tree of procfs/cgroup's
#                rpi-docker fixture (Docker with two containers, services,
#                a session); python3 (700) is Home Assistant's.
#   x86-hybrid   procfs's x86-server with procfs/cgroup's hybrid layout
#                (this CI machine's v1+v2 mounts, a Docker container of the
#                cgroupfs driver in /docker/<id>, cron mirrored in unified).
#
# over/ is laid over the tree before the first sample, later/ with the
# tree's proc-later, so that CPU shares come from two known samples: the
# machine's CPU time grows by 198 s (rpi4) and 700 s (x86), the groups' by
# the amounts below.
import os
F = '../../../procfs/testdata/fixtures'
C = '../../../procfs/cgroup/testdata/fixtures'

def w(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, 'w').write(data)

ids = {'pihole': "7d2c9e4f1a6b3c8d5e0f2a4b6c8d0e1f3a5b7c9d1e2f4a6b8c0d2e4f6a8b0c2d",
       'hass':   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       'nginx':  "2c624232cdd221771294dfbb310aca000a0df6ac8b66b696d90ef06fdefb64a3"}

mi = open(F + '/rpi4/proc/self/mountinfo').read()
mi += "30 26 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
w('rpi4-docker/over/proc/self/mountinfo', mi)
for pid, path in [(1, "/init.scope"), (2, "/"), (512, "/system.slice/ssh.service"),
                  (700, f"/system.slice/docker-{ids['hass']}.scope")]:
    w(f'rpi4-docker/over/proc/{pid}/cgroup', f"0::{path}\n")

def cpustat(us, per=0, thr=0, thr_us=0):
    return (f"usage_usec {us}\nuser_usec {us*2//3}\nsystem_usec {us - us*2//3}\n"
            f"nr_periods {per}\nnr_throttled {thr}\nthrottled_usec {thr_us}\nnr_bursts 0\nburst_usec 0\n")

g = 'rpi4-docker/later/sys/fs/cgroup/system.slice/'
w(g + f"docker-{ids['hass']}.scope/cpu.stat", cpustat(884600000, 84520, 5391, 75800000))  # +39.6 s: 20 %
w(g + f"docker-{ids['pihole']}.scope/cpu.stat", cpustat(153980000))                        # +1.98 s: 1 %
w(g + "ssh.service/cpu.stat", cpustat(1890000))                                            # +0.99 s: 0.5 %

x = [l for l in open(F + '/x86-server/proc/self/mountinfo').read().splitlines(True) if ' - cgroup' not in l]
h = [l for l in open(C + '/hybrid/proc/self/mountinfo').read().splitlines(True) if '/sys/fs/cgroup' in l]
w('x86-hybrid/over/proc/self/mountinfo', ''.join(x + h))
for pid, src in [(1, 1), (1300, 640), (2001, 2101), (3333, 700)]:
    w(f'x86-hybrid/over/proc/{pid}/cgroup', open(f'{C}/hybrid/proc/{src}/cgroup').read())
dk = "/docker/" + ids['nginx']
w('x86-hybrid/later/sys/fs/cgroup/cpuacct' + dk + '/cpuacct.usage', "143004511988\n")  # +70 s: 10 %
w('x86-hybrid/later/sys/fs/cgroup/cpu' + dk + '/cpu.stat',
  "nr_periods 5820\nnr_throttled 388\nthrottled_time 9923456789\nnr_bursts 0\nburst_time 0\n")
w('x86-hybrid/later/sys/fs/cgroup/unified/system.slice/cron.service/cpu.stat',  # +7 s: 1 %
  "usage_usec 9204311\nuser_usec 6000000\nsystem_usec 3204311\nnice_usec 0\n")
