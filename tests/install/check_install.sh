#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the build into a scratch prefix, then build and run a consumer with pkg-config.
set -euo pipefail
build=$1 src=$2 cc=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
"$cc" "$src/tests/install/consumer.c" $(pkg-config --cflags --libs --static iommu-harness) \
	-o "$prefix/consumer"
"$prefix/consumer"
