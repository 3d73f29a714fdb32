#!/usr/bin/env bash
# Deploys an overlay: the migration Job first, to completion, then everything else.
#   bash infra/k8s/deploy.sh production        (kubectl pointed at the cluster)
# The Job's template is immutable, so the previous run is deleted before the new one starts.
set -euo pipefail
overlay="$(dirname "$0")/overlays/${1:?usage: deploy.sh <overlay>}"
namespace=$(kubectl kustomize "$overlay" | awk '/^  namespace:/ { print $2; exit }')
kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"
kubectl -n "$namespace" delete job shop-migrate --ignore-not-found
kubectl apply -k "$overlay" -l 'app.kubernetes.io/component=migration'
kubectl -n "$namespace" wait --for=condition=complete job/shop-migrate --timeout=15m
kubectl apply -k "$overlay"
for d in $(kubectl -n "$namespace" get deployments -l app.kubernetes.io/part-of=shop -o name); do
  kubectl -n "$namespace" rollout status "$d" --timeout=10m
done
