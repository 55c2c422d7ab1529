// SPDX-License-Identifier: MIT
/* The platform bus: match by override, compatible string or name; devices from ih_alloc. */
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include "base_priv.h"

/* Lock order: none taken here; match runs under the caller's device lock. */

static int platform_match(struct ih_device *dev, struct ih_driver *drv)
{
	const struct ih_platform_device *pdev = ih_to_platform_device(dev);
	const char *const *ids = drv->id_table;

	/* An override names the one driver allowed, as the sysfs driver_override file. */
	if (dev->driver_override[0])
		return !strcmp(dev->driver_override, drv->name);
	if (ids && pdev->compatible[0]) {
		for (; *ids; ids++)
			if (!strcmp(*ids, pdev->compatible))
				return 1;
	}
	return !strcmp(dev->name, drv->name);
}

const struct ih_bus_type ih_platform_bus_type = {
	.name = "platform",
	.match = platform_match,
	.dma_configure = ih_base_bus_dma_configure,
	.dma_cleanup = ih_base_bus_dma_cleanup,
};

static void platform_device_release(struct ih_device *dev)
{
	ih_free(dev->world, ih_to_platform_device(dev));
}

int ih_platform_device_init(struct ih_world *w, struct ih_platform_device *pdev,
			    const char *name, const char *compatible, struct ih_device *parent,
			    void (*release)(struct ih_device *dev))
{
	size_t len = compatible ? strlen(compatible) : 0;
	int ret;

	if (IH_WARN_ON(w, !pdev, "platform device init: NULL device"))
		return -EINVAL;
	if (IH_WARN_ON(w, len >= IH_DEV_NAME_MAX, "platform device: compatible too long"))
		return -ENAMETOOLONG;
	ret = ih_device_init(w, &pdev->dev, &ih_platform_bus_type, parent, name, release);
	if (ret)
		return ret;
	memset(pdev->compatible, 0, sizeof(pdev->compatible));
	if (len)
		memcpy(pdev->compatible, compatible, len);
	return 0;
}

int ih_platform_device_alloc(struct ih_world *w, const char *name, const char *compatible,
			     struct ih_device *parent, struct ih_platform_device **out)
{
	struct ih_platform_device *pdev;
	int ret;

	if (IH_WARN_ON(w, !w || !out, "platform device alloc: NULL argument"))
		return -EINVAL;
	*out = NULL;
	pdev = ih_alloc(w, sizeof(*pdev), "base:platform-device");
	if (!pdev)
		return -ENOMEM;
	ret = ih_platform_device_init(w, pdev, name, compatible, parent,
				      platform_device_release);
	if (ret) {
		ih_free(w, pdev);
		return ret;
	}
	*out = pdev;
	return 0;
}
