#!/usr/bin/env bash
# Generates the Python messages and gRPC stub for proto/gatehouse/v1 with Debian's protoc and grpc_python_plugin
# (packages protobuf-compiler, libprotobuf-dev, protobuf-compiler-grpc):
#   examples/fastapi/generate-stubs.sh [OUT]      OUT defaults to examples/fastapi/build (git-ignored)
# Put OUT on PYTHONPATH beside examples/fastapi. Generated, never committed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$root/examples/fastapi/build}
for tool in protoc grpc_python_plugin; do
  command -v "$tool" >/dev/null || { echo "generate-stubs: $tool is missing: run make system-packages" >&2; exit 1; }
done
[ -e /usr/include/google/protobuf/struct.proto ] || { echo "generate-stubs: google/protobuf/*.proto missing (libprotobuf-dev): run make system-packages" >&2; exit 1; }
mkdir -p "$out"
protoc -I "$root/proto" -I /usr/include \
  --python_out="$out" --pyi_out="$out" \
  --grpc_out="$out" --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" \
  "$root/proto/gatehouse/v1/gatehouse.proto"
echo "$out"
