#!/usr/bin/env bash
# Separate "hosts" on one machine for the queue's network tests: network
# namespaces on one bridge, each with its own address, so the workers,
# PostgreSQL and the sandbox talk over a real (virtual) network that a test can
# cut. Needs root and iproute2.
#   bash scripts/netns-hosts.sh up NAME:ADDRESS...   e.g. up aw-db:10.77.0.10 aw-w1:10.77.0.21
#   bash scripts/netns-hosts.sh cut NAME | heal NAME  (take a host's link down / up)
#   bash scripts/netns-hosts.sh down NAME...
set -euo pipefail
bridge=awbr0
case "${1:-}" in
up)
    shift
    if ! ip link show "$bridge" >/dev/null 2>&1; then
        ip link add "$bridge" type bridge
        ip addr add 10.77.0.1/24 dev "$bridge"
        ip link set "$bridge" up
    fi
    for spec in "$@"; do
        name=${spec%%:*}; address=${spec#*:}
        ip netns add "$name"
        ip link add "$name-h" type veth peer name eth0 netns "$name"
        ip link set "$name-h" master "$bridge" up
        ip -n "$name" addr add "$address/24" dev eth0
        ip -n "$name" link set eth0 up
        ip -n "$name" link set lo up
        ip -n "$name" route add default via 10.77.0.1
    done
    ;;
cut) ip link set "$2-h" down ;;
heal) ip link set "$2-h" up ;;
down)
    shift
    for name in "$@"; do
        ip netns del "$name" 2>/dev/null || true
        ip link del "$name-h" 2>/dev/null || true
    done
    ip link del "$bridge" 2>/dev/null || true
    ;;
*) echo "usage: $0 up NAME:ADDRESS... | cut NAME | heal NAME | down NAME..." >&2; exit 64 ;;
esac
