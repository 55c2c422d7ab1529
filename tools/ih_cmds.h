/* SPDX-License-Identifier: MIT */
/* The ih CLI's commands that live in their own files (tools/ih_<command>.c). */
#ifndef IH_TOOLS_IH_CMDS_H
#define IH_TOOLS_IH_CMDS_H

#include <stdio.h>

/* Writes @s as a JSON string literal, escaped (tools/ih.c). */
void ih_tool_json_str(FILE *f, const char *s);

/* ih trace: replay a kernel iommu/dma trace (tools/ih_trace.c). Return: the exit status. */
int ih_cmd_trace(int argc, char **argv);

#endif /* IH_TOOLS_IH_CMDS_H */
