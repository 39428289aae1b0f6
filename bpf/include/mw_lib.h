/* Helpers shared by the hooks: counters, zone and verdict lookups, flow events. */
#ifndef MW_LIB_H
#define MW_LIB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "mw_maps.h"

#define MW_AF_INET 2
#define MW_AF_INET6 10
#define MW_SOCK_STREAM 1
#define MW_IPPROTO_TCP 6
#define MW_IPPROTO_UDP 17

/* Keep clang from merging loads of different ctx fields into one load at a variable offset. */
#define MW_BARRIER_VAR(v) asm volatile("" : "+r"(v))

static __always_inline void mw_count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&mw_counters, &slot);
	if (v)
		*v += 1;
}

/* The live generation and its config, or NULL when the daemon never configured the datapath. */
static __always_inline struct mw_cfg *mw_live_config(__u32 *gen)
{
	__u32 zero = 0;
	struct mw_gen *st = bpf_map_lookup_elem(&mw_state, &zero);
	if (!st)
		return NULL;
	__u32 g = st->gen & 1;
	*gen = g;
	return bpf_map_lookup_elem(&mw_config, &g);
}

/* The calling agent's slot for generation gen, or NULL for a process that is no agent. */
static __always_inline struct mw_endpoint_slot *mw_agent(struct mw_endpoint *ep, __u32 gen)
{
	struct mw_endpoint_slot *s = &ep->slot[gen & 1];
	return s->zone ? s : NULL;
}

static __always_inline __u32 mw_zone4(__u32 gen, __u32 addr_be)
{
	struct mw_lpm4_key k = {.prefixlen = 64, .gen = gen};
	__builtin_memcpy(k.addr, &addr_be, 4);
	__u32 *z = bpf_map_lookup_elem(&mw_zones4, &k);
	return z ? *z : 0;
}

static __always_inline __u32 mw_zone6(__u32 gen, const __u32 addr_be[4])
{
	struct mw_lpm6_key k = {.prefixlen = 160, .gen = gen};
	__builtin_memcpy(k.addr, addr_be, 16);
	__u32 *z = bpf_map_lookup_elem(&mw_zones6, &k);
	return z ? *z : 0;
}

/* The verdict for (src zone, dst zone, port): exact port first, then any port, then the default. */
static __always_inline __u8 mw_verdict(__u32 gen, __u32 src, __u32 dst, __u16 port,
				       const struct mw_cfg *cfg, __u8 *reason)
{
	struct mw_policy_key k = {.gen = gen, .port = port, .src_zone = src, .dst_zone = dst};
	__u32 *v = bpf_map_lookup_elem(&mw_policy, &k);
	if (v) {
		*reason = MW_REASON_RULE_PORT;
		return *v;
	}
	k.port = 0;
	v = bpf_map_lookup_elem(&mw_policy, &k);
	if (v) {
		*reason = MW_REASON_RULE_ANY;
		return *v;
	}
	*reason = MW_REASON_DEFAULT;
	return cfg->default_verdict;
}

static __always_inline void mw_count_verdict(__u8 verdict)
{
	if (verdict == MW_VERDICT_ALLOW)
		mw_count(MW_CNT_ALLOW);
	else if (verdict == MW_VERDICT_REDIRECT)
		mw_count(MW_CNT_REDIRECT);
	else
		mw_count(MW_CNT_DENY);
}

/* The tuple key of a socket endpoint. The fields are read by the caller unconditionally (never
 * at a ctx offset chosen by a branch) and passed here; the barriers keep clang from merging
 * the loads back into one. An IPv4-mapped IPv6 address becomes an IPv4 key. */
static __always_inline void mw_tuple_of(struct mw_tuple *t, __u32 family, __u32 ip4, __u32 ip6_0,
					__u32 ip6_1, __u32 ip6_2, __u32 ip6_3, __u16 port)
{
	MW_BARRIER_VAR(family);
	MW_BARRIER_VAR(ip4);
	MW_BARRIER_VAR(ip6_0);
	MW_BARRIER_VAR(ip6_1);
	MW_BARRIER_VAR(ip6_2);
	MW_BARRIER_VAR(ip6_3);
	t->port = port;
	int mapped = ip6_0 == 0 && ip6_1 == 0 && ip6_2 == bpf_htonl(0xffff);
	if (family == MW_AF_INET || mapped) {
		__u32 a = family == MW_AF_INET ? ip4 : ip6_3;
		__builtin_memcpy(t->addr, &a, 4);
		t->family = MW_FAMILY_V4;
	} else {
		__u32 a[4] = {ip6_0, ip6_1, ip6_2, ip6_3};
		__builtin_memcpy(t->addr, a, 16);
		t->family = MW_FAMILY_V6;
	}
}

/* The reader tells connect and close events apart by their size. */
_Static_assert(sizeof(struct mw_flow_event) != sizeof(struct mw_close_event),
	       "ring-buffer event types must differ in size");

/* Reserves one ring-buffer event, counting a full ring buffer as a drop. */
static __always_inline void *mw_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&mw_events, size, 0);
	if (!e)
		mw_count(MW_CNT_RINGBUF_DROP);
	return e;
}

/* Submits a reserved event. Wakes the reader only past a fill threshold: it polls on its own. */
static __always_inline void mw_submit(void *e)
{
	__u64 waiting = bpf_ringbuf_query(&mw_events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(e, waiting >= MW_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Sends one flow event: a connect() decision. */
static __always_inline void mw_emit(const struct mw_orig *o, __u8 verdict, __u8 reason, __u8 proto)
{
	struct mw_flow_event *e = mw_reserve(sizeof(*e));
	if (!e)
		return;
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cookie = o->cookie;
	e->cgroup_id = o->cgroup_id;
	e->pid = o->pid;
	e->agent = o->agent;
	e->src_zone = o->src_zone;
	e->dst_zone = o->dst_zone;
	e->verdict = verdict;
	e->family = o->family;
	e->proto = proto;
	e->reason = reason;
	e->dport = o->dport;
	e->pad = 0;
	__builtin_memcpy(e->daddr, o->daddr, 16);
	__builtin_memcpy(e->comm, o->comm, MW_COMM_LEN);
	mw_submit(e);
}

/* Sends one close event for a flow that mw_sk_flows tracked since its connect(). */
static __always_inline void mw_emit_close(const struct mw_sk_flow *f, __u64 now, __u64 sent,
					  __u64 received)
{
	struct mw_close_event *e = mw_reserve(sizeof(*e));
	if (!e)
		return;
	e->ts_ns = now;
	e->cookie = f->o.cookie;
	e->cgroup_id = f->o.cgroup_id;
	e->duration_ns = now - f->start_ns;
	e->bytes_sent = sent;
	e->bytes_received = received;
	e->pid = f->o.pid;
	e->agent = f->o.agent;
	e->src_zone = f->o.src_zone;
	e->dst_zone = f->o.dst_zone;
	e->verdict = f->verdict;
	e->family = f->o.family;
	e->dport = f->o.dport;
	e->pad = 0;
	__builtin_memcpy(e->daddr, f->o.daddr, 16);
	__builtin_memcpy(e->comm, f->o.comm, MW_COMM_LEN);
	mw_submit(e);
}

#endif
