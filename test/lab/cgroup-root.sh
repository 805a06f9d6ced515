#!/bin/sh
# Prints the root of the cgroup2 hierarchy: /sys/fs/cgroup on a pure cgroup v2 host,
# /sys/fs/cgroup/unified on a hybrid one (this machine kind).
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo /sys/fs/cgroup; else echo /sys/fs/cgroup/unified; fi
