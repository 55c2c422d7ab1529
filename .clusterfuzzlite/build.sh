#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# ClusterFuzzLite builds exactly as OSS-Fuzz does: one build script, kept in oss-fuzz/.
exec bash -eu "$SRC/iommu-harness/oss-fuzz/build.sh"
