#!/usr/bin/env bash
# Rebuilds README.md from the sections in docs/readme (in name order).
set -euo pipefail
cd "$(dirname "$0")"
{
  for f in [0-9][0-9]-*.md; do
    cat "$f"
    echo
  done
} > ../../README.md
