/* cgroup/getsockopt on the enforcer's cgroup: answers SO_ORIGINAL_DST (IPv4) and
 * IP6T_SO_ORIGINAL_DST (IPv6) for accepted sockets, as iptables REDIRECT would, so
 * proxies written for netfilter work unchanged. */
#include "include/mw_lib.h"

#define MW_SOL_IP 0
#define MW_SOL_IPV6 41
#define MW_SO_ORIGINAL_DST 80

struct mw_sockaddr_in {
	__u16 family;
	__u16 port; /* network byte order */
	__u32 addr; /* network byte order */
	__u8 zero[8];
};

struct mw_sockaddr_in6 {
	__u16 family;
	__u16 port;
	__u32 flowinfo;
	__u32 addr[4];
	__u32 scope_id;
};

SEC("cgroup/getsockopt")
int mw_getsockopt(struct bpf_sockopt *ctx)
{
	__s32 level = ctx->level;
	__s32 optname = ctx->optname;
	if (optname != MW_SO_ORIGINAL_DST || (level != MW_SOL_IP && level != MW_SOL_IPV6))
		return 1;
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 1;

	/* The peer of an accepted socket is the agent's local endpoint. */
	struct mw_tuple t = {};
	mw_tuple_of(&t, sk->family, sk->dst_ip4, sk->dst_ip6[0], sk->dst_ip6[1], sk->dst_ip6[2],
		    sk->dst_ip6[3], bpf_ntohs(sk->dst_port));
	struct mw_orig *o = bpf_map_lookup_elem(&mw_orig_by_tuple, &t);
	if (!o)
		return 1;

	void *optval = ctx->optval;
	void *end = ctx->optval_end;
	if (level == MW_SOL_IP && o->family == MW_FAMILY_V4) {
		struct mw_sockaddr_in *sa = optval;
		if ((void *)(sa + 1) > end)
			return 1;
		sa->family = MW_AF_INET;
		sa->port = bpf_htons(o->dport);
		__builtin_memcpy(&sa->addr, o->daddr, 4);
		__builtin_memset(sa->zero, 0, sizeof(sa->zero));
		ctx->optlen = sizeof(*sa);
	} else if (level == MW_SOL_IPV6 && o->family == MW_FAMILY_V6) {
		struct mw_sockaddr_in6 *sa = optval;
		if ((void *)(sa + 1) > end)
			return 1;
		sa->family = MW_AF_INET6;
		sa->port = bpf_htons(o->dport);
		sa->flowinfo = 0;
		__builtin_memcpy(sa->addr, o->daddr, 16);
		sa->scope_id = 0;
		ctx->optlen = sizeof(*sa);
	} else {
		return 1;
	}
	ctx->retval = 0;
	mw_count(MW_CNT_ORIG_DST_ANSWERED);
	return 1;
}
