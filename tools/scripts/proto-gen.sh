#!/usr/bin/env bash
# Regenerates the TypeScript types of libs/contracts/proto/**.proto into
# libs/contracts/src/generated with @grpc/proto-loader's generator (the same library loads the
# protos at run time, so types and wire behaviour come from one source).
#   proto-gen.sh           regenerate in place
#   proto-gen.sh --check   fail if the checked-in files differ from a fresh generation (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
proto_dir=libs/contracts/proto
out=libs/contracts/src/generated
target=$out
if [[ "${1:-}" == "--check" ]]; then
  target=$(mktemp -d)
  trap 'rm -rf "$target"' EXIT
fi
rm -rf "${target:?}"/*
mapfile -t protos < <(cd "$proto_dir" && find . -name '*.proto' | sed 's#^\./##' | sort)
node node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js \
  --keepCase --longs=String --enums=String --defaults --oneofs --includeComments \
  --grpcLib=@grpc/grpc-js --includeDirs="$proto_dir" --outDir="$target" "${protos[@]}" >/dev/null
if [[ "${1:-}" == "--check" ]]; then
  if ! diff -r "$out" "$target" >/dev/null; then
    echo "libs/contracts/src/generated is stale: run 'npm run proto:gen' and commit the result" >&2
    diff -r "$out" "$target" | head -40 >&2
    exit 1
  fi
  echo "proto: generated types are up to date"
else
  echo "proto: generated $(find "$out" -name '*.ts' | wc -l) files into $out"
fi
