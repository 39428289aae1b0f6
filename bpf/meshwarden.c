// SPDX-License-Identifier: GPL-2.0
/* The one compilation unit of the datapath: every hook family lives in its own file and
 * they share the maps of include/mw_maps.h, so one object carries them all. */
#include "connect.c"
#include "sockops.c"
#include "getpeername.c"
#include "getsockopt.c"

/* Keep the ring-buffer event types in BTF so bpf2go can generate their Go twins. */
const struct mw_flow_event *mw_unused_flow_event __attribute__((unused));
const struct mw_close_event *mw_unused_close_event __attribute__((unused));

char _license[] SEC("license") = "GPL";
