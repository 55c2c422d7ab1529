/* SPDX-License-Identifier: MIT */
/* The hardware a trace replay runs on: an emulated SMMUv3 or Rockchip IOMMUs, real drivers. */
#ifndef IH_HW_BOARD_TRACE_BACKEND_H
#define IH_HW_BOARD_TRACE_BACKEND_H

#include <ih/trace_replay.h>

struct ih_world;
struct ih_trace_hw;

/*
 * A world built for ih/trace_replay.h (sequential, virtual clock) whose devices appear as
 * the trace names them:
 *
 *   smmuv3   one emulated SMMUv3 (20 StreamID bits) and its driver. A PCI name
 *            "SSSS:BB:DD.F" becomes a PCI endpoint below a host bridge made for its
 *            segment and bus, with StreamID = requester ID (bus << 8 | devfn); any other
 *            name becomes a platform device with its own StreamID from 0x10000 up.
 *   rk       per device one emulated Rockchip IOMMU (v2, one bank) and the Rockchip
 *            driver; every device is a platform device (as on those SoCs).
 *
 * Each device gets a client driver ("trace-client") bound, so the DMA API works, and a
 * DMA default domain: strict, or lazy with @lazy (Rockchip: the DMA layer's own
 * strict-to-lazy step, ih_dma_init_fq(), since that driver allocates DMA domains only).
 *
 * Synchronisation: one thread.
 */

enum ih_trace_hw_kind {
	IH_TRACE_HW_SMMUV3,
	IH_TRACE_HW_RK,
};

/**
 * struct ih_trace_hw_config - the backend.
 * @kind: which IOMMU.
 * @lazy: DMA-FQ default domains.
 * @ncpus: model CPUs of the world (0: 8); trace CPUs fold onto them.
 * @checkers_off: switch the world's checkers off (benchmarks).
 * @max_devices: devices the backend will create (0: 256); more are refused (-ENOSPC).
 */
struct ih_trace_hw_config {
	enum ih_trace_hw_kind kind;
	bool lazy;
	unsigned int ncpus;
	bool checkers_off;
	unsigned int max_devices;
};

/**
 * ih_trace_hw_create() - a world and its IOMMU(s), ready for devices.
 * Return: 0; -EINVAL; -ENOMEM; errors of the drivers' probes.
 */
int ih_trace_hw_create(const struct ih_trace_hw_config *cfg, struct ih_trace_hw **out);

struct ih_world *ih_trace_hw_world(struct ih_trace_hw *b);

/* The backend callbacks; pass the backend itself as the opaque pointer. */
const struct ih_trace_backend_ops *ih_trace_hw_ops(void);

/* ih_trace_hw_kind_name() - "smmuv3" or "rk". */
const char *ih_trace_hw_kind_name(enum ih_trace_hw_kind kind);

/**
 * ih_trace_hw_destroy() - remove every device, the drivers and the IOMMUs, destroy the
 * world. Destroy the replay first. NULL is ignored.
 * Return: model blocks the world still held (0: no leak).
 */
size_t ih_trace_hw_destroy(struct ih_trace_hw *b);

#endif /* IH_HW_BOARD_TRACE_BACKEND_H */
