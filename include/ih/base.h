/* SPDX-License-Identifier: MIT */
/* The device model: buses, devices, drivers, bind/unbind, deferred probe, bus notifiers. */
#ifndef IH_BASE_H
#define IH_BASE_H

#include <pthread.h>

#include <ih/compat.h>

/*
 * A small copy of the Linux driver core, per world. A bus type is a const ops table
 * (match, dma_configure, dma_cleanup); registering it in a world gives it device and
 * driver lists there. Devices are refcounted and carry the fields the IOMMU layers hang
 * their state on (fwnode, iommu, iommu_group). Drivers bind on device add, on driver
 * registration, explicitly (the sysfs bind file) and from the deferred-probe list.
 *
 * Synchronisation (which calls may run concurrently, in a concurrent world):
 *
 * | call                                  | may run concurrently with                     |
 * | ------------------------------------- | --------------------------------------------- |
 * | ih_device_add / ih_device_del         | anything on other devices; del of the same    |
 * |                                       | device twice is a misuse caught by state      |
 * | ih_device_bind / ih_device_unbind     | anything; serialised per device by its lock   |
 * | ih_driver_register / _unregister      | anything except the same driver's register    |
 * | ih_deferred_probe_trigger             | anything; one caller runs the passes at a time|
 * | ih_bus_register / _unregister         | set-up only: before/after devices exist       |
 * | ih_base_set_dma_hooks                 | set-up only: before any device binds          |
 * | ih_bus_register_notifier / _unreg...  | anything except from inside a notifier call   |
 *
 * Lock order (outermost first), see also the top of each core/base file:
 *   device lock of a parent -> device lock of a child (a probe may add and bind children)
 *   device lock -> notifier rwlock (read; notifiers run under the device lock, as in Linux)
 *   -> bus lock (device and driver lists) -> deferred lock -> registry lock (leaves).
 * No callback (match, probe, remove, dma hooks, notifiers) is called with a bus, deferred
 * or registry lock held.
 *
 * Schedule points (ih_sched_point()) on the windows where Linux's driver core races:
 *   base:add-before-attach            device on its bus, ADD_DEVICE sent, not yet probed
 *   base:probe-after-set-driver       dev->driver visible, dma_configure not yet run
 *   base:probe-before-probe           DMA configured, BIND_DRIVER sent, probe not called
 *   base:probe-failed-before-dma-cleanup  probe failed, DMA claim still held
 *   base:unbind-before-remove         UNBIND_DRIVER sent, remove not yet called
 *   base:unbind-before-dma-cleanup    driver removed, DMA claim still held, driver set
 *   base:del-after-kill               device marked going away, still on its bus
 *   base:deferred-before-retry        a deferred device taken off the list, not retried
 *   base:driver-unregister-before-detach  driver off its bus, still bound to devices
 *   base:dma-configure-after-read-driver  platform/PCI dma_configure read dev->driver
 */

struct ih_world;
struct ih_device;
struct ih_driver;
/* Set and owned by the later core/iommu layer; the device model never looks inside. */
struct ih_dev_iommu;
struct ih_iommu_group;
/* Private to core/base. */
struct ih_device_private;
struct ih_driver_private;

#define IH_DEV_NAME_MAX 64

/**
 * struct ih_bus_type - a kind of bus: a const ops table, shared by every world.
 * @name: "platform", "pci", ...; unique among the buses registered in one world.
 * @match: does @drv handle @dev? Return >0 for a match, 0 for none, -EPROBE_DEFER to put
 *         the device on the deferred list (the match needs something not yet there), any
 *         other negative errno to skip the driver. Called with the device lock held;
 *         must only compare identities (no locks, no allocation).
 * @dma_configure: optional. Called by the driver core with the device lock held, after
 *         dev->driver has been set and before @drv->probe. A non-zero return fails the
 *         probe with that error; dma_cleanup is then NOT called (nothing was configured).
 *         The IOMMU layer (probe-path flow) may also call it with no driver bound, so an
 *         implementation reads dev->driver once with ih_device_driver() and treats NULL
 *         as "firmware set-up only". Whether DMA-API ownership is claimed is the bus's
 *         decision: it skips the claim when the bound driver has driver_managed_dma.
 * @dma_cleanup: optional. Called with the device lock held and dev->driver still set:
 *         after a probe that failed (any error, including -EPROBE_DEFER) once dma_configure
 *         had succeeded, and after drv->remove on unbind. It undoes what dma_configure
 *         claimed for that driver (again skipping the release for driver_managed_dma).
 *
 * The same pairing as Linux's really_probe()/device_release_driver(): every successful
 * dma_configure made during a bind is followed by exactly one dma_cleanup, whether the
 * probe fails or the device is later unbound.
 */
struct ih_bus_type {
	const char *name;
	int (*match)(struct ih_device *dev, struct ih_driver *drv);
	int (*dma_configure)(struct ih_device *dev);
	void (*dma_cleanup)(struct ih_device *dev);
};

/**
 * enum ih_pci_type - what a PCI function is, for topology and DMA aliasing.
 * @IH_PCI_ENDPOINT: an ordinary function (PCIe or conventional).
 * @IH_PCI_HOST_BRIDGE: the root complex: owns a segment and a bus range; never bound by a
 *                      driver and has no requester ID of its own.
 * @IH_PCI_ROOT_PORT: PCIe root port (introduces no DMA alias).
 * @IH_PCI_SWITCH_UPSTREAM: PCIe switch upstream port (no alias).
 * @IH_PCI_SWITCH_DOWNSTREAM: PCIe switch downstream port (no alias).
 * @IH_PCI_PCIE_TO_PCI: PCIe-to-PCI/PCI-X bridge: conventional PCI carries no requester ID,
 *                      so the bridge tags transactions it forwards upstream with its
 *                      secondary bus number and devfn 0 (PCI Express to PCI/PCI-X Bridge
 *                      Specification, requester ID of forwarded transactions).
 * @IH_PCI_PCI_TO_PCI: conventional PCI-to-PCI bridge: it takes ownership of the
 *                     transactions it forwards, so they carry the bridge's own ID.
 */
enum ih_pci_type {
	IH_PCI_ENDPOINT,
	IH_PCI_HOST_BRIDGE,
	IH_PCI_ROOT_PORT,
	IH_PCI_SWITCH_UPSTREAM,
	IH_PCI_SWITCH_DOWNSTREAM,
	IH_PCI_PCIE_TO_PCI,
	IH_PCI_PCI_TO_PCI,
};

/**
 * struct ih_pci_info - PCI identity of a device on the PCI bus (read-only after creation).
 * @type: see enum ih_pci_type.
 * @segment: PCI segment (domain) number.
 * @bus: bus number the function sits on (host bridge: its root bus number).
 * @devfn: device << 3 | function.
 * @vendor: vendor ID.
 * @device: device ID.
 * @class: 24-bit class code (base << 16 | sub << 8 | prog-if).
 * @secondary: bridges and host bridges: first bus number below.
 * @subordinate: bridges and host bridges: last bus number below.
 */
struct ih_pci_info {
	enum ih_pci_type type;
	u16 segment;
	u8 bus;
	u8 devfn;
	u16 vendor;
	u16 device;
	u32 class;
	u8 secondary;
	u8 subordinate;
};

/**
 * struct ih_device - a device in the model.
 * @world: the world it lives in.
 * @name: unique per bus (set at ih_device_init()).
 * @bus: its bus type.
 * @parent: NULL or the upstream device (a PCI bridge, a host controller); holds a
 *          reference on it while the device is added.
 * @driver: the bound driver or NULL. Written only with the device lock held; read it with
 *          ih_device_driver() (READ_ONCE) anywhere else.
 * @driver_data: the bound driver's private pointer (ih_dev_set_drvdata()); cleared on
 *               unbind and after a failed probe.
 * @driver_override: when non-empty, only the driver of this name matches (as the sysfs
 *                   driver_override file); set with ih_device_set_driver_override().
 * @fwnode: firmware node handle (DT node offset, IORT node, ...), owned by the fw layer.
 * @iommu: per-device IOMMU data, owned by core/iommu.
 * @iommu_group: the device's IOMMU group, owned by core/iommu.
 * @dma_configured: reserved for the IOMMU/DMA layers (the device model never writes it).
 * @pci: PCI identity when @bus is ih_pci_bus_type, else NULL.
 *
 * Private members below the marker belong to core/base.
 */
struct ih_device {
	struct ih_world *world;
	char name[IH_DEV_NAME_MAX];
	const struct ih_bus_type *bus;
	struct ih_device *parent;
	struct ih_driver *driver;
	void *driver_data;
	char driver_override[IH_DEV_NAME_MAX];
	void *fwnode;
	struct ih_dev_iommu *iommu;
	struct ih_iommu_group *iommu_group;
	bool dma_configured;
	struct ih_pci_info *pci;

	/* private: */
	void (*release)(struct ih_device *dev);
	unsigned int refcount;   /* atomic */
	unsigned int state;      /* atomic; enum ih_dev_state in core/base */
	pthread_mutex_t lock;    /* the device lock: bind, unbind, driver and driver_data */
	const void *lock_owner;  /* atomic; the thread holding @lock, for lock assertions */
	struct ih_device_private *p; /* allocated at ih_device_add() */
};

/**
 * struct ih_driver - a driver for one bus type. The caller owns the memory; it must stay
 * valid from ih_driver_register() until ih_driver_unregister() returns.
 * @name: unique among the drivers of its bus in a world.
 * @bus: the bus type it drives.
 * @probe: optional; bind to @dev. 0 binds; -EPROBE_DEFER puts @dev on the deferred list;
 *         any other error leaves the device unbound and the next matching driver is tried.
 *         Called with the device lock held and dev->driver already set.
 * @remove: optional; unbind. Called with the device lock held.
 * @driver_managed_dma: the driver manages DMA ownership itself (a VFIO-like driver): the
 *         bus dma hooks must not claim DMA-API ownership for it.
 * @id_table: bus-specific match data: platform: NULL-terminated array of const char *
 *            compatible strings; PCI: array of struct ih_pci_device_id ended by a zeroed
 *            entry. NULL: match by name (platform) or never (PCI).
 */
struct ih_driver {
	const char *name;
	const struct ih_bus_type *bus;
	int (*probe)(struct ih_device *dev);
	void (*remove)(struct ih_device *dev);
	bool driver_managed_dma;
	const void *id_table;

	/* private: */
	struct ih_driver_private *p;
};

/* Bus notifier events, in the order Linux's driver core sends them. */
enum ih_bus_event {
	IH_BUS_NOTIFY_ADD_DEVICE = 1,   /* after the device joined its bus, before probing */
	IH_BUS_NOTIFY_DEL_DEVICE,       /* device_del started; the driver is still bound */
	IH_BUS_NOTIFY_REMOVED_DEVICE,   /* device_del finished; off the bus */
	IH_BUS_NOTIFY_BIND_DRIVER,      /* dev->driver set, dma_configure done, before probe */
	IH_BUS_NOTIFY_BOUND_DRIVER,     /* probe succeeded */
	IH_BUS_NOTIFY_UNBIND_DRIVER,    /* before drv->remove */
	IH_BUS_NOTIFY_UNBOUND_DRIVER,   /* after remove and dma_cleanup; dev->driver is NULL */
	IH_BUS_NOTIFY_DRIVER_NOT_BOUND, /* probe failed after BIND_DRIVER */
};

/**
 * struct ih_bus_notifier - a callback for bus events (the IOMMU layer hooks device add
 * and removal this way).
 * @notifier_call: called for each event; the return value is ignored, as Linux ignores it
 *                 for these events. Must not (un)register notifiers.
 * @bus: only events of this bus type; NULL for every bus.
 * @priority: higher runs first; equal priorities run in registration order.
 */
struct ih_bus_notifier {
	int (*notifier_call)(struct ih_bus_notifier *nb, enum ih_bus_event event,
			     struct ih_device *dev);
	const struct ih_bus_type *bus;
	int priority;

	/* private: */
	struct ih_bus_notifier *next;
	bool registered;
};

/**
 * struct ih_base_dma_hooks - what the platform and PCI buses' dma hooks delegate to.
 * Installed by the firmware/IOMMU layers; every member is optional.
 * @fw_configure: firmware DMA set-up (of/acpi dma_configure: build the fwspec). Called
 *                from dma_configure whether or not a driver is bound.
 * @use_default_domain: claim DMA-API ownership for the bound driver (called only when a
 *                      driver is bound without driver_managed_dma). An error fails probe.
 * @unuse_default_domain: release that claim (dma_cleanup, same condition).
 * @fw_deconfigure: undo @fw_configure when @use_default_domain fails.
 */
struct ih_base_dma_hooks {
	int (*fw_configure)(struct ih_device *dev, void *opaque);
	int (*use_default_domain)(struct ih_device *dev, void *opaque);
	void (*unuse_default_domain)(struct ih_device *dev, void *opaque);
	void (*fw_deconfigure)(struct ih_device *dev, void *opaque);
};

/**
 * struct ih_base_stats - counters of one world's device model.
 * @probes: drv->probe calls.
 * @probe_failures: of which returned an error other than -EPROBE_DEFER.
 * @probe_defers: of which returned -EPROBE_DEFER (or the match deferred).
 * @binds: successful binds.
 * @unbinds: unbinds (remove path runs).
 * @dma_configures: bus dma_configure calls made by the driver core.
 * @dma_cleanups: bus dma_cleanup calls made by the driver core.
 * @deferred_retries: bind attempts made from the deferred list.
 * @deferred_bound: of which bound the device.
 * @deferred_passes: passes over the deferred list.
 */
struct ih_base_stats {
	unsigned long probes;
	unsigned long probe_failures;
	unsigned long probe_defers;
	unsigned long binds;
	unsigned long unbinds;
	unsigned long dma_configures;
	unsigned long dma_cleanups;
	unsigned long deferred_retries;
	unsigned long deferred_bound;
	unsigned long deferred_passes;
};

/* ---- World-level set-up ---------------------------------------------------------------- */

/**
 * ih_base_init() - create the device-model state of @w (idempotent).
 *
 * Every other call creates it on first use; a higher layer that keeps state depending on
 * the device model calls this first so that its own teardown runs before the model's.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for NULL @w; -ENOMEM (site "base:state").
 */
int ih_base_init(struct ih_world *w);

/**
 * ih_bus_register() - make @bus available in @w.
 *
 * Context: set-up; any thread.
 * Return: 0; -EINVAL for NULL arguments, a NULL name or NULL match (warns); -EBUSY when
 * @bus or a bus of the same name is already registered in @w (warns); -ENOMEM (sites
 * "base:state", "base:bus").
 */
int ih_bus_register(struct ih_world *w, const struct ih_bus_type *bus);

/**
 * ih_bus_unregister() - remove @bus from @w.
 *
 * Buses still registered at world teardown are dropped silently when empty.
 *
 * Context: set-up/teardown; no call on @bus may be in flight.
 * Return: 0; -EINVAL for NULL arguments (warns); -ENOENT when not registered (warns);
 * -EBUSY when devices or drivers are still on it (warns).
 */
int ih_bus_unregister(struct ih_world *w, const struct ih_bus_type *bus);

/**
 * ih_bus_registered() - whether @bus is registered in @w.
 */
bool ih_bus_registered(struct ih_world *w, const struct ih_bus_type *bus);

/**
 * ih_bus_find_device_by_name() - look up a device added to @bus by name.
 *
 * Context: any thread.
 * Return: the device with a reference the caller drops with ih_device_put(), or NULL.
 */
struct ih_device *ih_bus_find_device_by_name(struct ih_world *w, const struct ih_bus_type *bus,
					     const char *name);

/**
 * ih_bus_for_each_dev() - call @fn for each device added to @bus, in add order, until it
 * returns non-zero. Each device is held by a reference during its call; no lock is held,
 * so @fn may add, delete, bind or unbind devices. Devices added during the walk are seen.
 *
 * Return: the first non-zero value @fn returned, 0, or -EINVAL / -ENOENT (bus missing).
 */
int ih_bus_for_each_dev(struct ih_world *w, const struct ih_bus_type *bus,
			int (*fn)(struct ih_device *dev, void *data), void *data);

/**
 * ih_bus_register_notifier() - call @nb for bus events in @w.
 * Context: not from inside a notifier call (the chain is read-locked then).
 * Return: 0; -EINVAL for NULL @w, @nb or @nb->notifier_call (warns); -EBUSY when @nb is
 * already registered (warns); -ENOMEM (site "base:state").
 */
int ih_bus_register_notifier(struct ih_world *w, struct ih_bus_notifier *nb);

/**
 * ih_bus_unregister_notifier() - stop calling @nb; waits for calls in flight.
 * Return: 0; -EINVAL for NULL arguments (warns); -ENOENT when not registered (warns).
 */
int ih_bus_unregister_notifier(struct ih_world *w, struct ih_bus_notifier *nb);

/**
 * ih_base_set_dma_hooks() - install what the platform and PCI buses' dma_configure and
 * dma_cleanup delegate to. @hooks (NULL: none) must outlive its use.
 * Context: set-up, before devices bind.
 * Return: 0; -EINVAL for NULL @w; -ENOMEM (site "base:state").
 */
int ih_base_set_dma_hooks(struct ih_world *w, const struct ih_base_dma_hooks *hooks,
			  void *opaque);

/**
 * ih_base_get_stats() - copy @w's device-model counters to @out (zeros if never used).
 */
void ih_base_get_stats(struct ih_world *w, struct ih_base_stats *out);

/* ---- Devices --------------------------------------------------------------------------- */

/**
 * ih_device_init() - initialise @dev (clears it) with one reference held by the caller.
 * @w: the world.
 * @dev: the device; usually embedded in a bigger object freed by @release.
 * @bus: its bus type (must be registered by ih_device_add() time).
 * @parent: NULL or the upstream device, which must be added (in @w) when @dev is added.
 * @name: unique per bus, 1..IH_DEV_NAME_MAX-1 characters.
 * @release: called by the last ih_device_put(); frees the containing object. NULL is
 *           allowed for devices whose memory the caller manages itself (static, stack).
 *
 * Callers set fwnode, driver_override and friends after this and before ih_device_add().
 *
 * Return: 0; -EINVAL for NULL @w/@dev/@bus/@name or an empty name (warns when @w is
 * known); -ENAMETOOLONG for a name that does not fit (warns).
 */
int ih_device_init(struct ih_world *w, struct ih_device *dev, const struct ih_bus_type *bus,
		   struct ih_device *parent, const char *name,
		   void (*release)(struct ih_device *dev));

/**
 * ih_device_add() - put @dev on its bus, send ADD_DEVICE, then try to bind a driver.
 *
 * A failed or deferred probe does not fail the add (as in Linux). On success the bus holds
 * a reference on @dev and @dev one on its parent, both dropped by ih_device_del().
 *
 * Context: any thread; no device lock of @dev held.
 * Return: 0; -EINVAL for NULL @dev, a device never initialised (warns when possible) or
 * one already deleted (warns); -EEXIST when @dev was already added (double add) or another
 * device of that name is on the bus (both warn); -ENODEV when the bus is not registered in the device's world or the
 * parent is not added (warns); -ENOMEM (site "base:device-private").
 */
int ih_device_add(struct ih_device *dev);

/**
 * ih_device_del() - take @dev off its bus: DEL_DEVICE, unbind, leave the deferred list and
 * the bus, REMOVED_DEVICE, drop the bus and parent references. A deleted device cannot be
 * added again; drop the caller's reference with ih_device_put().
 *
 * Context: any thread; no device lock of @dev held.
 * Return: 0; -EINVAL for NULL; -ENODEV when @dev is not added (never added, already
 * deleted, or being deleted by another thread; warns).
 */
int ih_device_del(struct ih_device *dev);

/* ih_device_unregister() - ih_device_del(), then ih_device_put() when del succeeded. */
int ih_device_unregister(struct ih_device *dev);

/**
 * ih_device_get() - take a reference on @dev.
 * Return: @dev (NULL for NULL).
 */
struct ih_device *ih_device_get(struct ih_device *dev);

/**
 * ih_device_put() - drop a reference; the last one frees the device-model private data
 * and calls @dev->release. A put of a device at refcount 0 warns and does nothing.
 */
void ih_device_put(struct ih_device *dev);

/* ih_device_refcount() - current reference count (tests). */
unsigned int ih_device_refcount(struct ih_device *dev);

/* ih_device_is_added() - whether @dev is on its bus now. */
bool ih_device_is_added(struct ih_device *dev);

/**
 * ih_device_driver() - the bound driver, read once (READ_ONCE): may change right after
 * unless the caller holds the device lock.
 */
static inline struct ih_driver *ih_device_driver(struct ih_device *dev)
{
	return READ_ONCE(dev->driver);
}

static inline void *ih_dev_get_drvdata(struct ih_device *dev)
{
	return dev->driver_data;
}

static inline void ih_dev_set_drvdata(struct ih_device *dev, void *data)
{
	dev->driver_data = data;
}

static inline const char *ih_dev_name(const struct ih_device *dev)
{
	return dev->name;
}

/**
 * ih_device_lock() - take the device lock (serialises bind, unbind, probe and remove).
 * ih_device_unlock() releases it; when it was the calling thread's last device lock,
 * deferred-probe passes requested meanwhile run before it returns.
 */
void ih_device_lock(struct ih_device *dev);
void ih_device_unlock(struct ih_device *dev);
/* ih_device_trylock() - true when the lock was taken. */
bool ih_device_trylock(struct ih_device *dev);
/* ih_device_lock_held() - whether the calling thread holds @dev's lock. */
bool ih_device_lock_held(struct ih_device *dev);

/**
 * ih_device_set_driver_override() - only the driver named @name may match @dev from now
 * on (NULL or "" clears). Does not unbind a bound driver.
 * Context: takes the device lock.
 * Return: 0; -EINVAL for NULL @dev (warns when possible); -ENAMETOOLONG (warns).
 */
int ih_device_set_driver_override(struct ih_device *dev, const char *name);

/* ---- Drivers and binding --------------------------------------------------------------- */

/**
 * ih_driver_register() - add @drv to its bus in @w, bind it to every matching unbound
 * device (in add order), then run a deferred-probe trigger.
 *
 * Context: any thread; no device lock held.
 * Return: 0 (probe failures do not fail registration); -EINVAL for NULL @w/@drv, a NULL
 * name or bus (warns); -EBUSY when @drv is already registered (warns) or a driver of the
 * same name is on the bus (warns); -ENODEV when the bus is not registered in @w (warns);
 * -ENOMEM (sites "base:state", "base:driver-private").
 */
int ih_driver_register(struct ih_world *w, struct ih_driver *drv);

/**
 * ih_driver_unregister() - take @drv off its bus, wait for bind attempts using it, and
 * unbind it from every device.
 *
 * Context: any thread; not from @drv's own probe or remove (it waits for them).
 * Return: 0; -EINVAL for NULL (warns when possible); -ENOENT when @drv is not registered
 * (warns).
 */
int ih_driver_unregister(struct ih_world *w, struct ih_driver *drv);

/**
 * ih_device_bind() - bind @drv to @dev now (the sysfs "bind" file).
 *
 * Context: any thread; no device lock of @dev held.
 * Return: 0 when bound; the probe's error (-EPROBE_DEFER puts @dev on the deferred list);
 * the bus dma_configure error; -EINVAL for NULL arguments or a bus mismatch (warns);
 * -ENODEV when @dev is not added or @drv not registered in @dev's world (warns), or when
 * @drv does not match @dev (no warning: the match said no); -EBUSY when @dev already has
 * a driver (warns).
 */
int ih_device_bind(struct ih_device *dev, struct ih_driver *drv);

/**
 * ih_device_unbind() - unbind @dev's driver (the sysfs "unbind" file).
 *
 * Context: any thread; no device lock of @dev held.
 * Return: 0; -EINVAL for NULL; -ENODEV when @dev has no driver bound (warns).
 */
int ih_device_unbind(struct ih_device *dev);

/**
 * ih_device_attach() - try every matching driver on an unbound, added @dev (what device
 * add and deferred retries do).
 * Return: 1 when a driver is bound (already or now), 0 when none bound, -EINVAL for NULL,
 * -ENODEV when @dev is not added.
 */
int ih_device_attach(struct ih_device *dev);

/**
 * ih_deferred_probe_trigger() - retry every device on @w's deferred-probe list.
 *
 * Devices that defer again go back on the list. Each successful bind requests another
 * pass (a newly bound device may be what others waited for), as Linux re-runs its
 * deferred work; at most IH_DEFERRED_MAX_PASSES passes run per call, so a call is bounded.
 * Only one thread runs passes at a time: a call made while another runs only requests a
 * pass, which the running caller does before it returns. A call made while the caller
 * holds a device lock (an IOMMU driver registering from its probe) also only requests;
 * the passes run when that thread's last device lock is released.
 *
 * Context: any thread.
 * Return: the number of deferred devices this call bound (>= 0); 0 also for NULL @w.
 */
int ih_deferred_probe_trigger(struct ih_world *w);
#define IH_DEFERRED_MAX_PASSES 64

/* ih_deferred_probe_pending() - devices on @w's deferred list now. */
unsigned int ih_deferred_probe_pending(struct ih_world *w);

/* ih_device_is_deferred() - whether @dev is on the deferred list now. */
bool ih_device_is_deferred(struct ih_device *dev);

/* ---- Platform bus ---------------------------------------------------------------------- */

/*
 * Platform bus: match by driver_override, then the driver's compatible strings against
 * the device's, then driver name against the device name. dma_configure/dma_cleanup go
 * through the world's struct ih_base_dma_hooks.
 */
extern const struct ih_bus_type ih_platform_bus_type;

/**
 * struct ih_platform_device - a device on the platform bus.
 * @dev: the device.
 * @compatible: "vendor,model" matched against the driver's compatible strings; may be "".
 */
struct ih_platform_device {
	struct ih_device dev;
	char compatible[IH_DEV_NAME_MAX];
};

static inline struct ih_platform_device *ih_to_platform_device(struct ih_device *dev)
{
	return container_of(dev, struct ih_platform_device, dev);
}

/**
 * ih_platform_device_init() - ih_device_init() for a platform device the caller embeds
 * elsewhere. Every device on ih_platform_bus_type must be a struct ih_platform_device
 * set up by this function or ih_platform_device_alloc() (the match reads @compatible).
 * @compatible: NULL or the compatible string.
 * Return: as ih_device_init(); -ENAMETOOLONG for a too long @compatible (warns).
 */
int ih_platform_device_init(struct ih_world *w, struct ih_platform_device *pdev,
			    const char *name, const char *compatible, struct ih_device *parent,
			    void (*release)(struct ih_device *dev));

/**
 * ih_platform_device_alloc() - allocate and initialise (not add) a platform device; the
 * last ih_device_put() frees it.
 * @compatible: NULL or the compatible string.
 * Return: 0; -EINVAL/-ENAMETOOLONG as ih_device_init() or for a too long @compatible;
 * -ENOMEM (site "base:platform-device").
 */
int ih_platform_device_alloc(struct ih_world *w, const char *name, const char *compatible,
			     struct ih_device *parent, struct ih_platform_device **out);

/* ---- PCI bus --------------------------------------------------------------------------- */

/*
 * PCI bus: devices named "SSSS:BB:DD.F" (host bridges "pciSSSS:BB"), matched by
 * driver_override or struct ih_pci_device_id tables; host bridges never match.
 * dma_configure/dma_cleanup go through the world's struct ih_base_dma_hooks.
 */
extern const struct ih_bus_type ih_pci_bus_type;

#define IH_PCI_DEVFN(slot, fn)  ((u8)((((slot) & 0x1f) << 3) | ((fn) & 0x07)))
#define IH_PCI_SLOT(devfn)      (((devfn) >> 3) & 0x1f)
#define IH_PCI_FUNC(devfn)      ((devfn) & 0x07)
/* Requester ID (PCIe Base spec, "Transaction Descriptor - Transaction ID"): bus, devfn. */
#define IH_PCI_DEVID(bus, devfn) ((u16)((((u16)(bus)) << 8) | (devfn)))
#define IH_PCI_ANY_ID 0xffff

/**
 * struct ih_pci_device_id - one entry of a PCI driver's id_table.
 * @vendor: vendor ID or IH_PCI_ANY_ID.
 * @device: device ID or IH_PCI_ANY_ID.
 * @class: class code compared under @class_mask.
 * @class_mask: which class bits must equal (0: any class).
 * The table ends with an entry whose vendor, device and class_mask are all 0.
 */
struct ih_pci_device_id {
	u16 vendor;
	u16 device;
	u32 class;
	u32 class_mask;
};

/**
 * struct ih_pci_dev - a function on the PCI bus.
 * @dev: the device (dev.pci points at @info).
 * @info: its identity.
 */
struct ih_pci_dev {
	struct ih_device dev;
	struct ih_pci_info info;
};

/**
 * struct ih_pci_desc - what to create.
 * @type: endpoint, bridge kind or host bridge.
 * @segment: host bridge only: its segment (others inherit the upstream's).
 * @devfn: not for a host bridge.
 * @vendor: vendor ID.
 * @device: device ID.
 * @class: class code.
 * @secondary: bridges and host bridges: first bus below (host bridge: root bus number).
 * @subordinate: bridges and host bridges: last bus below.
 */
struct ih_pci_desc {
	enum ih_pci_type type;
	u16 segment;
	u8 devfn;
	u16 vendor;
	u16 device;
	u32 class;
	u8 secondary;
	u8 subordinate;
};

/**
 * ih_pci_dev_alloc() - allocate and initialise (not add) a PCI function or host bridge;
 * the last ih_device_put() frees it.
 * @upstream: for a host bridge, NULL or its host controller (any bus); for anything else
 *            the bridge or host bridge it hangs below: it sits on @upstream's secondary
 *            bus, in @upstream's segment.
 *
 * Checks: a bridge's [secondary, subordinate] lies strictly below its own bus and inside
 * the upstream's range; a host bridge's range is ordered. Sibling ranges are not
 * cross-checked (names, i.e. requester IDs, are: two functions at one address fail add).
 *
 * Return: 0; -EINVAL for NULL @w/@desc/@out, an unknown type, a non-bridge @upstream, or
 * an inconsistent bus range (warns); -ENOMEM (site "base:pci-device").
 */
int ih_pci_dev_alloc(struct ih_world *w, struct ih_device *upstream,
		     const struct ih_pci_desc *desc, struct ih_pci_dev **out);

static inline struct ih_pci_dev *ih_to_pci_dev(struct ih_device *dev)
{
	return container_of(dev, struct ih_pci_dev, dev);
}

/* ih_dev_is_pci() - whether @dev is on the PCI bus. */
bool ih_dev_is_pci(const struct ih_device *dev);

/**
 * ih_pci_dev_id() - @dev's 16-bit requester ID (bus << 8 | devfn).
 * Return: 0..0xffff; -EINVAL for NULL, a non-PCI device or a host bridge.
 */
int ih_pci_dev_id(const struct ih_device *dev);

/**
 * ih_pci_get_host_bridge() - walk parent links up to @dev's host bridge.
 * Return: the host bridge (no reference taken: it lives as long as @dev is added), or
 * NULL for a non-PCI device or a broken chain.
 */
struct ih_device *ih_pci_get_host_bridge(struct ih_device *dev);

/**
 * ih_pci_for_each_dma_alias() - call @fn(@who, @rid, @data) for every requester ID a DMA
 * from @dev may carry when it reaches the host bridge: first @dev's own ID, then, walking
 * up through each bridge between @dev and the host bridge:
 *   - PCIe root ports and switch ports: nothing (PCIe keeps the requester ID intact);
 *   - a PCIe-to-PCI bridge: (its secondary bus, devfn 0.0), with @who = the bridge, since
 *     the bridge re-tags forwarded transactions with that ID;
 *   - a conventional PCI-to-PCI bridge: the bridge's own requester ID.
 * The last ID reported is the one the IOMMU sees. Stops when @fn returns non-zero.
 *
 * Return: @fn's first non-zero value, 0 after the host bridge, -EINVAL for NULL @dev or
 * @fn, a non-PCI device or a host bridge; -ENODEV when the parent chain does not reach
 * a host bridge.
 */
int ih_pci_for_each_dma_alias(struct ih_device *dev,
			      int (*fn)(struct ih_device *who, u16 rid, void *data), void *data);

/**
 * ih_pci_dma_aliases() - the IDs of ih_pci_for_each_dma_alias() in an array.
 * @rids: out, up to @max IDs in walk order (own ID first).
 * @host_bridge: optional out, the host bridge reached.
 * Return: the number of IDs (may exceed @max: only @max are stored), or the walk's
 * negative errno.
 */
int ih_pci_dma_aliases(struct ih_device *dev, u16 *rids, size_t max,
		       struct ih_device **host_bridge);

#endif /* IH_BASE_H */
