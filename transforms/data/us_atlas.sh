#!/usr/bin/env bash
# Regenerates us_atlas_counties_10m.json: the county outlines of us-atlas 3.0.1 (the Census Bureau's 2017
# cartographic county boundaries as TopoJSON, generalized to 1:10,000,000; ISC licence, us_atlas_LICENSE.txt),
# taken unchanged from the npm package with npm's own client and checked against its known checksum.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent us-atlas@3.0.1 >/dev/null && tar -xzf us-atlas-3.0.1.tgz)
echo "145aaf5d1433352a6a1d8e86b5f149c7c653f9171baf14aaf75ee66575def1b0  $work/package/counties-10m.json" | sha256sum -c -
cp "$work/package/counties-10m.json" "$here/us_atlas_counties_10m.json"
cp "$work/package/LICENSE" "$here/us_atlas_LICENSE.txt"
