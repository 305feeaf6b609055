# The image charts/kubeplane runs: `kubeplane node` with the kernel tools it drives.
# Build: docker build -t ghcr.io/kubeplane/kubeplane:0.1.0 .

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles a native addon when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
# iptables (both backends), nftables, conntrack and ipset as kube-proxy's image ships them.
# python3: the proxy sends partial nftables syncs as raw netlink batches through a
# tiny python3 relay (Node has no AF_NETLINK sockets); without it the proxy falls back to nft -f.
RUN apt-get update && apt-get install -y --no-install-recommends \
      iptables nftables conntrack ipset ipvsadm iproute2 ca-certificates python3 \
    && rm -rf /var/lib/apt/lists/*
# iptables-wrapper logic (as kube-proxy's image): the iptables commands first point at a
# wrapper that picks the backend the host already uses (the one holding more rules), re-points
# the commands at it and re-executes, so the pod never mixes legacy and nft rules.
COPY <<'WRAPPER' /usr/sbin/iptables-wrapper
#!/bin/sh
set -e
nft=$( (iptables-nft-save || true; ip6tables-nft-save || true) 2>/dev/null | grep -c '^-' || true)
legacy=$( (iptables-legacy-save || true; ip6tables-legacy-save || true) 2>/dev/null | grep -c '^-' || true)
if [ "${legacy:-0}" -gt "${nft:-0}" ]; then mode=legacy; else mode=nft; fi
for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf "/usr/sbin/xtables-${mode}-multi" "/usr/sbin/$c"
done
exec "$0" "$@"
WRAPPER
RUN chmod 0755 /usr/sbin/iptables-wrapper \
    && for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
         ln -sf /usr/sbin/iptables-wrapper "/usr/sbin/$c"; done
WORKDIR /opt/kubeplane
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN ln -s /opt/kubeplane/dist/cli/main.js /usr/local/bin/kubeplane && chmod 0755 dist/cli/main.js
ENTRYPOINT ["kubeplane"]
CMD ["node"]
