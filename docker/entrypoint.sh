#!/bin/sh
# Entrypoint of the PV simulator image: run the service as the owner of the output directory.
#
# The CSVs go to /app/output, which docker-compose.yml bind-mounts from ./output. A bind mount
# keeps the host's numeric ownership, so a fixed container user can only write there when the
# host user happens to have the same uid (issue 8: a root-owned checkout failed with
# "Permission denied" for the image's old uid 1000). This script starts as root, reads the
# numeric owner of the directory and drops to it with setpriv (util-linux, in every Debian
# image), as the official postgres/redis/rabbitmq images do with gosu. No variable is needed:
#
#   owner uid != 0  the service runs as owner uid:gid, no supplementary groups, no new
#                   privileges. Its files belong to whoever owns ./output (uid 1000, 1001, a
#                   CI runner's uid ...).
#   owner uid == 0  the checkout belongs to root. The service never runs as root, so it runs
#                   as the image's unprivileged `app` user, and this script grants that user
#                   write access with POSIX ACLs on the directory tree: an access entry to
#                   create files there and a default entry that new subdirectories inherit
#                   (also on what a run outside Docker left there as root). Owner,
#                   group and mode bits of ./output stay as they are, nothing is chowned and
#                   `getfacl output` shows what was added. The files belong to `app` (uid
#                   APP_UID, 10001 by default: outside the range of host users, so no person
#                   on the host owns them); root reads, changes and deletes them as any file.
#
# Started with another user already (`user:` in a compose override, Kubernetes runAsUser),
# the script changes nothing and runs the command as that user.
set -eu

output_dir="${PVSIM_OUTPUT_DIR:-/app/output}"

if [ "$(id -u)" != 0 ]; then
    exec "$@"
fi

mkdir -p "$output_dir"
owner_uid=$(stat -c %u "$output_dir")
owner_gid=$(stat -c %g "$output_dir")

if [ "$owner_uid" = 0 ]; then
    run_uid=$(id -u app)
    run_gid=$(id -g app)
    if ! setfacl -R -m "u:${run_uid}:rwX,d:u:${run_uid}:rwX" "$output_dir"; then
        echo "entrypoint: $output_dir belongs to root and does not take ACLs; the service runs as" \
             "uid $run_uid and needs write access there" >&2
    fi
    echo "entrypoint: $output_dir belongs to root: running as the image user app ($run_uid:$run_gid)," \
         "with write access to it granted by an ACL"
else
    run_uid=$owner_uid
    run_gid=$owner_gid
    echo "entrypoint: running as $run_uid:$run_gid, the owner of $output_dir"
fi

exec setpriv --reuid="$run_uid" --regid="$run_gid" --clear-groups --no-new-privs -- "$@"
