#!/usr/bin/env bash
# npm run prebuildify: prebuilds/linux-x64/ with prebuildify --napi --strip,
# built in a copy of the tree so that build/ (and tests running on it) is left
# alone. (Not named "prebuild": npm would run that before every `npm run build`.)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/muxftpd-prebuild.XXXXXX")
trap 'rm -rf "$work"' EXIT
source "$repo/scripts/copy-tree.sh"
copy_tree "$work"
(cd "$work" && node "$repo/node_modules/prebuildify/bin.js" --napi --strip)
mkdir -p "$repo/prebuilds"
cp -r "$work/prebuilds/." "$repo/prebuilds/"
ls -l "$repo"/prebuilds/*/
