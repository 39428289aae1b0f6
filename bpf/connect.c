/* cgroup/connect4 and cgroup/connect6: classify an agent's connect() into (source zone,
 * destination zone, port) and allow it, refuse it (EPERM), or rewrite it to the enforcer.
 * cgroup/sendmsg4 and cgroup/sendmsg6 apply the same decision to each datagram an agent sends
 * on an unconnected UDP socket (sendto/sendmsg with an address): without them such a socket
 * would never meet the policy. A datagram cannot be handed to the enforcer, so REDIRECT
 * refuses it, as it refuses a UDP connect(). */
#include "include/mw_lib.h"

/* Keeps an agent TCP connection's flow with its socket, so that sockops can report its close.
 * Without the storage the connection goes on unreported (the verdict never depends on it). */
static __always_inline void mw_track(struct bpf_sock *sk, const struct mw_orig *o, __u8 verdict)
{
	struct mw_sk_flow *f = bpf_sk_storage_get(&mw_sk_flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!f)
		return;
	__builtin_memcpy(&f->o, o, sizeof(f->o));
	f->start_ns = 0; /* a socket may connect() again after a close */
	f->verdict = verdict;
}

/* Decides one connect(). o holds the destination; on REDIRECT it is stored by socket cookie.
 * Returns the verdict to apply (ALLOW, DENY or REDIRECT), already counted and reported. */
static __always_inline __u8 mw_decide(struct bpf_sock *sk, __u32 gen, const struct mw_cfg *cfg,
				      struct mw_orig *o, __u32 type)
{
	__u8 reason = 0;
	__u8 verdict = mw_verdict(gen, o->src_zone, o->dst_zone, o->dport, cfg, &reason);
	__u8 proto = type == MW_SOCK_STREAM ? MW_IPPROTO_TCP : MW_IPPROTO_UDP;

	if (verdict != MW_VERDICT_ALLOW && verdict != MW_VERDICT_REDIRECT)
		verdict = MW_VERDICT_DENY;
	if (verdict == MW_VERDICT_REDIRECT && type != MW_SOCK_STREAM) {
		/* Only TCP can be handed to the enforcer; what policy meant to inspect is refused. */
		verdict = MW_VERDICT_DENY;
		reason = MW_REASON_NOT_STREAM;
	}
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	if (verdict == MW_VERDICT_REDIRECT &&
	    bpf_map_update_elem(&mw_orig_by_cookie, &o->cookie, o, BPF_ANY)) {
		/* Without the record the enforcer could not tell where to go: refuse. */
		mw_count(MW_CNT_ORIG_STORE_FAIL);
		verdict = MW_VERDICT_DENY;
		reason = MW_REASON_NO_RECORD;
	}
	mw_count_verdict(verdict);
	mw_emit(o, verdict, reason, proto);
	if (verdict != MW_VERDICT_DENY && type == MW_SOCK_STREAM)
		mw_track(sk, o, verdict);
	return verdict;
}

/* Decides a connect() or an unconnected sendmsg() to an IPv4 address. Returns 1 to let it go
 * (rewritten to the enforcer on REDIRECT), 0 to refuse it with EPERM. */
static __always_inline int mw_sock_addr4(struct bpf_sock_addr *ctx)
{
	__u64 cg = bpf_get_current_cgroup_id();
	struct mw_endpoint *ep = bpf_map_lookup_elem(&mw_endpoints, &cg);
	if (!ep)
		return 1; /* not an agent: one lookup and out */

	__u32 gen = 0;
	struct mw_cfg *cfg = mw_live_config(&gen);
	struct mw_endpoint_slot *agent = mw_agent(ep, gen);
	if (!cfg || !agent || cg == cfg->enforcer_cgroup)
		return 1;

	__u32 type = ctx->type;
	__u32 ip = ctx->user_ip4;
	__u16 port = bpf_ntohs(ctx->user_port);

	struct mw_orig o = {};
	__builtin_memcpy(o.daddr, &ip, 4);
	o.dport = port;
	o.family = MW_FAMILY_V4;
	o.agent = agent->agent;
	o.cgroup_id = cg;
	o.cookie = bpf_get_socket_cookie(ctx);
	o.src_zone = agent->zone;
	o.dst_zone = mw_zone4(gen, ip);

	__u8 verdict = mw_decide(ctx->sk, gen, cfg, &o, type);
	if (verdict == MW_VERDICT_DENY)
		return 0;
	if (verdict == MW_VERDICT_REDIRECT) {
		ctx->user_ip4 = cfg->enforcer_ip4;
		ctx->user_port = bpf_htons(cfg->enforcer_port);
	}
	return 1;
}

/* The IPv6 twin of mw_sock_addr4; a v4-mapped address (::ffff:a.b.c.d) is an IPv4 destination. */
static __always_inline int mw_sock_addr6(struct bpf_sock_addr *ctx)
{
	__u64 cg = bpf_get_current_cgroup_id();
	struct mw_endpoint *ep = bpf_map_lookup_elem(&mw_endpoints, &cg);
	if (!ep)
		return 1;

	__u32 gen = 0;
	struct mw_cfg *cfg = mw_live_config(&gen);
	struct mw_endpoint_slot *agent = mw_agent(ep, gen);
	if (!cfg || !agent || cg == cfg->enforcer_cgroup)
		return 1;

	__u32 type = ctx->type;
	__u32 ip6[4];
	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	__u16 port = bpf_ntohs(ctx->user_port);
	/* ::ffff:a.b.c.d: an IPv4 destination reached through an AF_INET6 socket. */
	int mapped = ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0xffff);

	struct mw_orig o = {};
	o.dport = port;
	o.agent = agent->agent;
	o.cgroup_id = cg;
	o.cookie = bpf_get_socket_cookie(ctx);
	o.src_zone = agent->zone;
	if (mapped) {
		__builtin_memcpy(o.daddr, &ip6[3], 4);
		o.family = MW_FAMILY_V4;
		o.dst_zone = mw_zone4(gen, ip6[3]);
	} else {
		__builtin_memcpy(o.daddr, ip6, 16);
		o.family = MW_FAMILY_V6;
		o.dst_zone = mw_zone6(gen, ip6);
	}

	__u8 verdict = mw_decide(ctx->sk, gen, cfg, &o, type);
	if (verdict == MW_VERDICT_DENY)
		return 0;
	if (verdict == MW_VERDICT_REDIRECT) {
		if (mapped) {
			ctx->user_ip6[0] = 0;
			ctx->user_ip6[1] = 0;
			ctx->user_ip6[2] = bpf_htonl(0xffff);
			ctx->user_ip6[3] = cfg->enforcer_ip4;
		} else {
			__u32 e6[4];
			__builtin_memcpy(e6, cfg->enforcer_ip6, 16);
			ctx->user_ip6[0] = e6[0];
			ctx->user_ip6[1] = e6[1];
			ctx->user_ip6[2] = e6[2];
			ctx->user_ip6[3] = e6[3];
		}
		ctx->user_port = bpf_htons(cfg->enforcer_port);
	}
	return 1;
}

SEC("cgroup/connect4")
int mw_connect4(struct bpf_sock_addr *ctx) { return mw_sock_addr4(ctx); }

SEC("cgroup/connect6")
int mw_connect6(struct bpf_sock_addr *ctx) { return mw_sock_addr6(ctx); }

SEC("cgroup/sendmsg4")
int mw_sendmsg4(struct bpf_sock_addr *ctx) { return mw_sock_addr4(ctx); }

SEC("cgroup/sendmsg6")
int mw_sendmsg6(struct bpf_sock_addr *ctx) { return mw_sock_addr6(ctx); }
