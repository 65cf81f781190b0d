#!/bin/bash
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

# Site pre-exec commands (raw shell from the pod's annotation, allowed by the site).
module load cuda/12.2
export OMP_NUM_THREADS=1

# Container "train".
container_1() {
    run_container run-train env \
        ${CUDA_VISIBLE_DEVICES+'APPTAINERENV_CUDA_VISIBLE_DEVICES='"$CUDA_VISIBLE_DEVICES"} \
        ${ROCR_VISIBLE_DEVICES+'APPTAINERENV_ROCR_VISIBLE_DEVICES='"$ROCR_VISIBLE_DEVICES"} \
        ${HIP_VISIBLE_DEVICES+'APPTAINERENV_HIP_VISIBLE_DEVICES='"$HIP_VISIBLE_DEVICES"} \
        ${GPU_DEVICE_ORDINAL+'APPTAINERENV_GPU_DEVICE_ORDINAL='"$GPU_DEVICE_ORDINAL"} \
        ${ZE_AFFINITY_MASK+'APPTAINERENV_ZE_AFFINITY_MASK='"$ZE_AFFINITY_MASK"} \
        ${NVIDIA_VISIBLE_DEVICES+'APPTAINERENV_NVIDIA_VISIBLE_DEVICES='"$NVIDIA_VISIBLE_DEVICES"} \
        'APPTAINERENV_NCCL_DEBUG=INFO' apptainer exec --nv --containall \
        --no-eval docker://nvcr.io/nvidia/pytorch:24.03-py3 python train.py --epochs 10
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
