# SPDX-License-Identifier: MIT
# One helper per kind of executable: each sets its ctest labels and sanitizer environment.

set(IH_SRC ${CMAKE_CURRENT_SOURCE_DIR})
# Sanitizer settings every test runs with: any report fails the test.
set(IH_SAN_ENV
	"ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1"
	"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
	"TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")

# tests/<dir>/test_<name>.c -> Criterion executable test_<dir>_<name>, label unit.
function(ih_add_unit_test src)
	get_filename_component(name ${src} NAME_WE)
	get_filename_component(dir ${src} DIRECTORY)
	get_filename_component(dir ${dir} NAME)
	if(NOT dir STREQUAL "tests")
		set(name "${name}_${dir}")
	endif()
	file(GLOB libsrc CONFIGURE_DEPENDS ${IH_SRC}/tests/lib/*.c)
	add_executable(${name} ${src} ${libsrc})
	target_include_directories(${name} PRIVATE ${IH_SRC}/tests ${IH_SRC}/core ${IH_SRC}/hw)
	target_link_libraries(${name} PRIVATE ${IH_ALL_LIBS} PkgConfig::CRITERION)
	target_compile_definitions(${name} PRIVATE IH_SOURCE_DIR="${IH_SRC}")
	# -j1 inside Criterion: ctest runs test executables in parallel already.
	add_test(NAME ${name} COMMAND ${name} --jobs 1 --ascii)
	set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300 ENVIRONMENT "${IH_SAN_ENV}")
endfunction()

# tsan/tsan_<scenario>.c -> standalone program (Criterion cannot run under TSan), label tsan.
# Exit 0 pass, 1 fail, 77 skip.
function(ih_add_tsan_scenario src)
	get_filename_component(name ${src} NAME_WE)
	# The test IOMMU driver (no Criterion inside) serves scenarios on the core.
	add_executable(${name} ${src} ${IH_SRC}/tests/lib/test_iommu.c)
	target_include_directories(${name} PRIVATE ${IH_SRC}/tsan ${IH_SRC}/tests ${IH_SRC}/core
		${IH_SRC}/hw)
	target_link_libraries(${name} PRIVATE ${IH_ALL_LIBS})
	# setarch -R: TSan needs the classic address layout on kernels with high mmap entropy.
	add_test(NAME ${name} COMMAND setarch ${CMAKE_SYSTEM_PROCESSOR} -R $<TARGET_FILE:${name}>)
	set_tests_properties(${name} PROPERTIES LABELS tsan TIMEOUT 600 SKIP_RETURN_CODE 77
		ENVIRONMENT "${IH_SAN_ENV}")
endfunction()

# A second run of an existing TSan scenario that must be REPORTED: it proves the detector
# still sees the bug the scenario's annotations could otherwise hide (tsan_rcu
# --skip-grace-period). Passes iff the output matches @regex; the exit code is ignored.
function(ih_add_tsan_expect_report name target args regex)
	add_test(NAME ${name} COMMAND setarch ${CMAKE_SYSTEM_PROCESSOR} -R
		$<TARGET_FILE:${target}> ${args})
	set_tests_properties(${name} PROPERTIES LABELS tsan TIMEOUT 600
		PASS_REGULAR_EXPRESSION "${regex}" ENVIRONMENT "${IH_SAN_ENV}")
endfunction()

# fuzz/fuzz_<target>.c -> fuzz_<target>. With IH_FUZZ_ENGINE it links that engine (OSS-Fuzz
# builds, no tests); with IH_FUZZ it links libFuzzer; otherwise a replay main() runs the files
# and folders given on its command line. ctest replays corpus/<target>/ and the kept findings
# in corpus/regress/<target>/ (label fuzz-replay) when those folders exist.
function(ih_add_fuzzer src)
	get_filename_component(name ${src} NAME_WE)
	string(REGEX REPLACE "^fuzz_" "" target ${name})
	add_executable(${name} ${src} ${IH_SRC}/tests/lib/test_iommu.c)
	target_include_directories(${name} PRIVATE ${IH_SRC}/fuzz ${IH_SRC}/tests ${IH_SRC}/core
		${IH_SRC}/hw)
	# fuzz/fw_probe.h reuses tests/fw helpers, which name the source tree.
	target_compile_definitions(${name} PRIVATE IH_SOURCE_DIR="${IH_SRC}")
	# The bug zoo's scenarios (fuzz_interleave), as an archive: only a target that calls
	# one links them in.
	if(NOT TARGET ih_fuzz_scenarios)
		add_library(ih_fuzz_scenarios STATIC ${IH_SRC}/tests/lib/scenarios.c
			${IH_SRC}/tests/lib/rk_board.c)
		target_include_directories(ih_fuzz_scenarios PRIVATE ${IH_SRC}/tests ${IH_SRC}/core
			${IH_SRC}/hw)
		target_link_libraries(ih_fuzz_scenarios PUBLIC ${IH_ALL_LIBS})
	endif()
	target_link_libraries(${name} PRIVATE ih_fuzz_scenarios ${IH_ALL_LIBS})
	if(IH_FUZZ_ENGINE)
		separate_arguments(engine UNIX_COMMAND "${IH_FUZZ_ENGINE}")
		target_link_libraries(${name} PRIVATE ${engine})
		set_target_properties(${name} PROPERTIES LINKER_LANGUAGE CXX)
		install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/iommu-harness)
		return()
	elseif(IH_FUZZ)
		target_link_options(${name} PRIVATE -fsanitize=fuzzer)
		set(replay_args -runs=0)
	else()
		target_sources(${name} PRIVATE ${IH_SRC}/fuzz/replay_main.c)
		set(replay_args)
	endif()
	if(BUILD_TESTING AND NOT IH_SANITIZE STREQUAL "thread")
		foreach(kind IN ITEMS corpus regress)
			if(kind STREQUAL "corpus")
				set(dir ${IH_SRC}/corpus/${target})
				set(test ${name}_replay)
			else()
				set(dir ${IH_SRC}/corpus/regress/${target})
				set(test ${name}_regress)
			endif()
			if(EXISTS ${dir})
				add_test(NAME ${test} COMMAND ${name} ${replay_args} ${dir})
				set_tests_properties(${test} PROPERTIES LABELS fuzz-replay TIMEOUT 600
					ENVIRONMENT "${IH_SAN_ENV}")
			endif()
		endforeach()
	endif()
	install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/iommu-harness)
endfunction()

# bench/bench_<scenario>.c -> bench_<scenario>; ctest runs it once with --smoke (label
# bench-smoke) so it cannot rot; real measurements run outside ctest.
function(ih_add_bench src)
	get_filename_component(name ${src} NAME_WE)
	# The test IOMMU and the Rockchip board fixture (no Criterion inside) bring rigs up.
	add_executable(${name} ${src} ${IH_SRC}/tests/lib/test_iommu.c
		${IH_SRC}/tests/lib/rk_board.c)
	target_include_directories(${name} PRIVATE ${IH_SRC}/bench ${IH_SRC}/tests ${IH_SRC}/core
		${IH_SRC}/hw)
	target_link_libraries(${name} PRIVATE ${IH_ALL_LIBS})
	if(BUILD_TESTING AND NOT IH_FUZZ AND EXISTS ${IH_SRC}/bench/${name}_check.py)
		# A checker script runs the smoke and validates what it wrote.
		add_test(NAME ${name}_smoke COMMAND python3 ${IH_SRC}/bench/${name}_check.py
			$<TARGET_FILE:${name}> ${CMAKE_CURRENT_BINARY_DIR}/smoke-${name})
		set_tests_properties(${name}_smoke PROPERTIES LABELS bench-smoke TIMEOUT 300
			ENVIRONMENT "${IH_SAN_ENV}")
	elseif(BUILD_TESTING AND NOT IH_FUZZ)
		add_test(NAME ${name}_smoke COMMAND ${name} --smoke)
		set_tests_properties(${name}_smoke PROPERTIES LABELS bench-smoke TIMEOUT 300
			ENVIRONMENT "${IH_SAN_ENV}")
	endif()
	install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/iommu-harness)
endfunction()

# zoo/zoo_<name>.c -> a known-bug scenario program run by `scripts/ih zoo` (not a ctest:
# the zoo decides, per replay switch, whether a detector must fire or stay silent).
function(ih_add_zoo src)
	get_filename_component(name ${src} NAME_WE)
	add_executable(${name} ${src} ${IH_SRC}/tests/lib/test_iommu.c
		${IH_SRC}/tests/lib/scenarios.c ${IH_SRC}/tests/lib/rk_board.c)
	target_include_directories(${name} PRIVATE ${IH_SRC}/tests ${IH_SRC}/core ${IH_SRC}/hw)
	target_link_libraries(${name} PRIVATE ${IH_ALL_LIBS})
endfunction()
