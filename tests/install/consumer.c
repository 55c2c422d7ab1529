// SPDX-License-Identifier: MIT
/* Another project linking the installed library through pkg-config. */
#include <stdio.h>
#include <ih/world.h>
#include <ih/alloc.h>
int main(void)
{
	struct ih_world *w;
	if (ih_world_create(NULL, &w))
		return 1;
	void *p = ih_alloc(w, 16, "consumer:x");
	ih_free(w, p);
	printf("consumer ok, leaked %zu\n", ih_world_destroy(w));
	return 0;
}
