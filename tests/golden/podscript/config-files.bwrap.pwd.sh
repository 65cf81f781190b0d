# The pod's containers, as pyinterlink runs them. Init containers run one after another and
# the first one that fails ends the pod; app containers then run side by side. A container's
# output goes to <name>.out and its exit code to <name>.status in the working directory; the
# script exits with the highest exit code. TERM and INT are passed on to running containers.

workdir="$PWD"
mkdir -p -- "$workdir" && cd -- "$workdir" || exit 1

children=()
interrupted=
stopped_by=

# Passes a signal on to the running children and remembers it: no container starts after it.
forward() {
    interrupted=1
    stopped_by=${stopped_by:-$2}
    if [ "${#children[@]}" -gt 0 ]; then
        kill -s "$1" "${children[@]}" 2>/dev/null
    fi
}
arm_traps() {
    trap 'forward TERM 143' TERM
    trap 'forward INT 130' INT
}

# Waits until process $1 has ended and sets rc to its exit code. A trap interrupts `wait`
# early; waiting again then returns the status of the process itself.
await() {
    while :; do
        interrupted=
        wait "$1"
        rc=$?
        [ -z "$interrupted" ] && return
    done
}

# Runs a command in the background and waits for it (so that traps run at once), sets rc.
# INT and QUIT are restored, which bash ignores in background processes.
step() {
    ( trap - INT QUIT; exec "$@" ) &
    children=("$!")
    await "$!"
    children=()
    return "$rc"
}

# Runs a container: output to $1.out, then its exit code to $1.status.
run_container() {
    local name=$1
    shift
    step "$@" >"$workdir/$name.out" 2>&1 </dev/null
    printf '%s\n' "$rc" >"$workdir/$name.status"
    return "$rc"
}

# Records that the container $1 could not start: a preparation step failed with code rc.
not_started() {
    printf 'pyinterlink: preparing the container failed with exit code %s (see job.out)\n' \
        "$rc" >"$workdir/$1.out"
    printf '%s\n' "$rc" >"$workdir/$1.status"
    return "$rc"
}

arm_traps

# Directories the containers mount or the runtime needs.
mkdir -p -- "$workdir"/tmp || exit 1

# Container "app".
container_1() {
    run_container run-app bwrap --die-with-parent --unshare-pid --ro-bind-try /usr /usr \
        --ro-bind-try /bin /bin --ro-bind-try /sbin /sbin --ro-bind-try /lib /lib \
        --ro-bind-try /lib32 /lib32 --ro-bind-try /lib64 /lib64 --ro-bind-try /libx32 /libx32 \
        --dir /etc --ro-bind-try /etc/alternatives /etc/alternatives \
        --ro-bind-try /etc/bash.bashrc /etc/bash.bashrc \
        --ro-bind-try /etc/ca-certificates /etc/ca-certificates \
        --ro-bind-try /etc/ca-certificates.conf /etc/ca-certificates.conf \
        --ro-bind-try /etc/gai.conf /etc/gai.conf --ro-bind-try /etc/group /etc/group \
        --ro-bind-try /etc/host.conf /etc/host.conf --ro-bind-try /etc/hostname /etc/hostname \
        --ro-bind-try /etc/hosts /etc/hosts --ro-bind-try /etc/ld.so.cache /etc/ld.so.cache \
        --ro-bind-try /etc/ld.so.conf /etc/ld.so.conf \
        --ro-bind-try /etc/ld.so.conf.d /etc/ld.so.conf.d \
        --ro-bind-try /etc/localtime /etc/localtime --ro-bind-try /etc/login.defs /etc/login.defs \
        --ro-bind-try /etc/machine-id /etc/machine-id \
        --ro-bind-try /etc/mime.types /etc/mime.types \
        --ro-bind-try /etc/nsswitch.conf /etc/nsswitch.conf \
        --ro-bind-try /etc/os-release /etc/os-release --ro-bind-try /etc/passwd /etc/passwd \
        --ro-bind-try /etc/pki /etc/pki --ro-bind-try /etc/profile /etc/profile \
        --ro-bind-try /etc/protocols /etc/protocols \
        --ro-bind-try /etc/resolv.conf /etc/resolv.conf --ro-bind-try /etc/services /etc/services \
        --ro-bind-try /etc/shells /etc/shells --ro-bind-try /etc/ssl /etc/ssl \
        --ro-bind-try /etc/timezone /etc/timezone --proc /proc --dev /dev \
        --bind "$workdir"/tmp /tmp --ro-bind "$workdir"/configMaps/settings /etc/config \
        --ro-bind "$workdir"/projectedVolumeMaps/podinfo /etc/podinfo \
        --ro-bind "$workdir"/configMaps/settings/app.conf /opt/app/app.conf \
        --ro-bind "$workdir"/secrets/credentials /var/run/secrets/app --clearenv \
        --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        ${CUDA_VISIBLE_DEVICES+'--setenv'} ${CUDA_VISIBLE_DEVICES+'CUDA_VISIBLE_DEVICES'} ${CUDA_VISIBLE_DEVICES+"$CUDA_VISIBLE_DEVICES"} \
        ${ROCR_VISIBLE_DEVICES+'--setenv'} ${ROCR_VISIBLE_DEVICES+'ROCR_VISIBLE_DEVICES'} ${ROCR_VISIBLE_DEVICES+"$ROCR_VISIBLE_DEVICES"} \
        ${HIP_VISIBLE_DEVICES+'--setenv'} ${HIP_VISIBLE_DEVICES+'HIP_VISIBLE_DEVICES'} ${HIP_VISIBLE_DEVICES+"$HIP_VISIBLE_DEVICES"} \
        ${GPU_DEVICE_ORDINAL+'--setenv'} ${GPU_DEVICE_ORDINAL+'GPU_DEVICE_ORDINAL'} ${GPU_DEVICE_ORDINAL+"$GPU_DEVICE_ORDINAL"} \
        ${ZE_AFFINITY_MASK+'--setenv'} ${ZE_AFFINITY_MASK+'ZE_AFFINITY_MASK'} ${ZE_AFFINITY_MASK+"$ZE_AFFINITY_MASK"} \
        ${NVIDIA_VISIBLE_DEVICES+'--setenv'} ${NVIDIA_VISIBLE_DEVICES+'NVIDIA_VISIBLE_DEVICES'} ${NVIDIA_VISIBLE_DEVICES+"$NVIDIA_VISIBLE_DEVICES"} \
        -- python -m app
}

# App containers, side by side.
highest=0
apps=()
( arm_traps; container_1 ) &
apps+=("$!")
children=("${apps[@]}")
for app in "${apps[@]}"; do
    await "$app"
    [ "$rc" -gt "$highest" ] && highest=$rc
done
exit "$highest"
