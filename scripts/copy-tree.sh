# Sourced by the scripts that build the addon elsewhere: copy_tree DIR copies
# the sources (no build/, prebuilds/, node_modules/, dist/) into DIR, links
# node_modules, and exports the Node headers npm is configured with (npm run
# sets npm_config_nodedir itself; outside npm, node-gyp would download them).
copy_tree() {
  local repo work=$1
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  tar -C "$repo" --exclude=./build --exclude=./prebuilds --exclude=./node_modules --exclude=./dist \
    --exclude=./.git --exclude=./native/test/bin -cf - . | tar -C "$work" -xf -
  ln -s "$repo/node_modules" "$work/node_modules"
  if [[ -z "${npm_config_nodedir:-}" ]]; then
    local nodedir
    nodedir=$(npm config get nodedir 2>/dev/null || true)
    if [[ -n "$nodedir" && "$nodedir" != undefined && "$nodedir" != null ]]; then export npm_config_nodedir="$nodedir"; fi
  fi
}
