#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# OSS-Fuzz / ClusterFuzzLite build script: every fuzz/fuzz_<t>.c becomes $OUT/fuzz_<t> with
# fuzz_<t>_seed_corpus.zip, fuzz_<t>.dict (when corpus/<t>.dict exists) and fuzz_<t>.options.
#
# Reads only the builder's variables: $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $SRC
# $OUT $WORK. The project is at $SRC/iommu-harness. libfdt and liburcu-bp are linked
# statically, so the binaries run in the bare runner image (ldd shows neither):
#   - by default they are built here with $CC $CFLAGS (so they carry the same sanitizer and
#     coverage instrumentation) from $SRC/dtc and $SRC/userspace-rcu, which the Dockerfile
#     clones, into the prefix $WORK/deps;
#   - IH_DEPS_PREFIX=<prefix> instead names a prefix that already holds libfdt.a,
#     liburcu-bp.a, liburcu-common.a and their headers (lib/ or Debian's multiarch
#     lib/<triplet>/, include/). scripts/ih oss-fuzz-check uses IH_DEPS_PREFIX=/usr with
#     Debian's libfdt-dev and liburcu-dev: those archives are not instrumented, which
#     ASan, UBSan, AFL++ and coverage builds accept (MSan would not).

proj=$SRC/iommu-harness
deps=${IH_DEPS_PREFIX:-}
jobs=$(nproc)
[ "$jobs" -gt 2 ] || jobs=2

build_libfdt() {
	local dir=$SRC/dtc/libfdt obj=$WORK/libfdt-obj
	mkdir -p "$obj" "$deps/lib" "$deps/include"
	for src in "$dir"/fdt*.c; do
		$CC $CFLAGS -I"$dir" -c "$src" -o "$obj/$(basename "${src%.c}").o"
	done
	rm -f "$deps/lib/libfdt.a"
	ar rcs "$deps/lib/libfdt.a" "$obj"/*.o
	cp "$dir"/fdt.h "$dir"/libfdt.h "$dir"/libfdt_env.h "$deps/include/"
}

build_liburcu() {
	local b=$WORK/userspace-rcu
	rm -rf "$b"
	# -a keeps the release tarball's timestamps: a fresh copy would look newer than configure
	# and make would try to re-run automake.
	cp -a "$SRC/userspace-rcu" "$b"
	(
		cd "$b"
		[ -x configure ] || ./bootstrap
		./configure --prefix="$deps" --enable-static --disable-shared CC="$CC" \
			CFLAGS="$CFLAGS"
		make -j"$jobs" -C include install
		make -j"$jobs" -C src install
	)
}

if [ -z "$deps" ]; then
	deps=$WORK/deps
	if [ ! -d "$SRC/dtc/libfdt" ] || [ ! -d "$SRC/userspace-rcu" ]; then
		echo "build.sh: need \$SRC/dtc and \$SRC/userspace-rcu (see Dockerfile)," \
			"or IH_DEPS_PREFIX naming prebuilt static dependencies" >&2
		exit 1
	fi
	build_libfdt
	build_liburcu
fi

# CMake reads CC, CXX, CFLAGS and CXXFLAGS from the environment; IH_FUZZ_ENGINE makes every
# fuzz target link $LIB_FUZZING_ENGINE with $CXX and adds no flag of its own.
export PKG_CONFIG_PATH="$deps/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cmake -S "$proj" -B "$WORK/build" -G Ninja \
	-DCMAKE_BUILD_TYPE= \
	-DCMAKE_PREFIX_PATH="$deps" \
	-DIH_WERROR=OFF \
	-DIH_STATIC_DEPS=ON \
	-DIH_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
	-DIH_TESTS=OFF \
	-DBUILD_TESTING=OFF

targets=()
for src in "$proj"/fuzz/fuzz_*.c; do
	targets+=("$(basename "${src%.c}")")
done
cmake --build "$WORK/build" -j "$jobs" --target "${targets[@]}"

for name in "${targets[@]}"; do
	t=${name#fuzz_}
	cp "$WORK/build/$name" "$OUT/$name"
	rm -f "$OUT/${name}_seed_corpus.zip"
	# Seeds and kept findings: both are good starting points.
	for dir in "$proj/corpus/$t" "$proj/corpus/regress/$t"; do
		[ -d "$dir" ] && (cd "$dir" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
	done
	options=$OUT/$name.options
	if [ -f "$proj/corpus/$t.options" ]; then
		cp "$proj/corpus/$t.options" "$options"
	else
		printf '[libfuzzer]\nmax_len = 4096\n' >"$options"
	fi
	if [ -f "$proj/corpus/$t.dict" ]; then
		cp "$proj/corpus/$t.dict" "$OUT/$name.dict"
		grep -q '^dict' "$options" || echo "dict = $name.dict" >>"$options"
	fi
done
