/* Every map of the datapath. All are pinned by name, so a restarted daemon finds them again. */
#ifndef MW_MAPS_H
#define MW_MAPS_H

#include <bpf/bpf_helpers.h>
#include "mw_types.h"

#define MW_MAX_ENDPOINTS 65536
#define MW_MAX_PREFIXES 16384
#define MW_MAX_RULES 16384
#define MW_MAX_FLOWS 131072
#define MW_RINGBUF_BYTES (4 << 20)
/* Wake the reader only once this much is waiting; it also polls every few ms. */
#define MW_WAKEUP_BYTES (64 << 10)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_gen);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct mw_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_MAX_ENDPOINTS);
	__type(key, __u64);
	__type(value, struct mw_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MW_MAX_PREFIXES);
	__type(key, struct mw_lpm4_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_zones4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MW_MAX_PREFIXES);
	__type(key, struct mw_lpm6_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_zones6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_MAX_RULES);
	__type(key, struct mw_policy_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MW_MAX_FLOWS);
	__type(key, __u64);
	__type(value, struct mw_orig);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_orig_by_cookie SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MW_MAX_FLOWS);
	__type(key, struct mw_tuple);
	__type(value, struct mw_orig);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_orig_by_tuple SEC(".maps");

/* Per-socket flow state of agent TCP connections; freed with the socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mw_sk_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_sk_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MW_RINGBUF_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mw_counters SEC(".maps");

#endif
