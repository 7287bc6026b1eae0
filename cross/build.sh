#!/usr/bin/env bash
# Release builds of the gateway binary (`ups2mqtt`, without the demo's
# embedded broker) for the gateways' targets, and their sizes against the
# budget.
#
#   cross/build.sh [TARGET...]
#
# TARGET defaults to aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf.
# With UPS2MQTT_CROSS=auto (default) a target other than the host's is built
# with `cross` (Cross.toml) when it and a container engine are there, and
# otherwise with `rustup target add` + rust-lld + clang (.cargo/config.toml;
# Debian: apt-get install clang llvm). UPS2MQTT_CROSS=yes or no forces one.
# UPS2MQTT_SIZE_BUDGET (bytes, default 3 MiB) is the size limit of the
# gateways' binaries: the exit status is non-zero when a build fails or a
# binary for another target than the host's is over it (a host build, e.g.
# x86_64 in CI, is printed against the budget for comparison only).
# The binaries: target/<TARGET>/release/ups2mqtt (under $CARGO_TARGET_DIR if set).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

budget=${UPS2MQTT_SIZE_BUDGET:-$((3 * 1024 * 1024))}
mode=${UPS2MQTT_CROSS:-auto}
host=$(rustc -vV | sed -n 's/^host: //p')
targets=("$@")
((${#targets[@]})) || targets=(aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf)

use_cross() {
    [[ $1 != "$host" ]] || return 1
    case $mode in
        yes) return 0 ;;
        no) return 1 ;;
        *) command -v cross >/dev/null && { docker info >/dev/null 2>&1 || podman info >/dev/null 2>&1; } ;;
    esac
}

status=0
report=()
for target in "${targets[@]}"; do
    args=(build --release --locked --no-default-features --bin ups2mqtt --target "$target")
    started=$SECONDS
    if use_cross "$target"; then
        how=cross
        cross "${args[@]}" || { status=1; report+=("$target: build failed ($how)"); continue; }
    else
        how="cargo + rust-lld"
        [[ $target == "$host" ]] && how=cargo
        if [[ $target != "$host" ]] && ! rustup target list --installed | grep -qx "$target"; then
            rustup target add "$target"
        fi
        cargo "${args[@]}" || { status=1; report+=("$target: build failed ($how)"); continue; }
    fi
    bin=${CARGO_TARGET_DIR:-target}/$target/release/ups2mqtt
    size=$(stat -c %s "$bin")
    verdict=ok
    if ((size >= budget)); then
        if [[ $target == "$host" ]]; then
            verdict="over, host build: for comparison only"
        else
            verdict="OVER BUDGET"
            status=1
        fi
    fi
    report+=("$(awk -v t="$target" -v s="$size" -v b="$budget" -v v="$verdict" -v h="$how" \
        -v d=$((SECONDS - started)) 'BEGIN { printf "%-34s %9d bytes  %5.2f MiB  (budget %.2f MiB: %s; %s, %d s)", t, s, s / 1048576, b / 1048576, v, h, d }')")
done
printf '%s\n' "${report[@]}"
exit $status
