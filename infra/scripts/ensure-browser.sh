#!/usr/bin/env bash
# The browser test drives Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium). When it is
# missing: install Debian's package when we can (root, apt-get), otherwise say exactly what to do.
# The Chinese storefront's screenshots need a CJK font (fonts-noto-cjk); without one the test still
# runs (it reads text, not glyphs), so a missing font is only installed when we can, never fatal.
set -uo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ] && can_apt; then
  echo "no Chinese font: installing Debian's fonts-noto-cjk for the browser test's screenshots..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null || echo "  (could not install it: Chinese screenshots will show boxes)"
fi
[ -x "$browser" ] && exit 0
if [ "$browser" = /usr/bin/chromium ] && can_apt; then
  echo "chromium is missing: installing Debian's package (chromium) for the browser test..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    [ -x "$browser" ] && exit 0
  fi
  echo "✗ apt-get could not install chromium." >&2
fi
cat >&2 <<MSG
✗ The browser test needs a Chromium at $browser, and there is none.
  • Debian/Ubuntu:   sudo apt-get install chromium        (or run npm test as root: it installs it)
  • Elsewhere:       install Chromium or Chrome and set CHROMIUM_PATH=/path/to/chromium
MSG
exit 1
