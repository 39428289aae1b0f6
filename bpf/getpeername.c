/* cgroup/getpeername4 and getpeername6: an agent asking for its peer sees the original
 * destination, not the enforcer it was redirected to. */
#include "include/mw_lib.h"

SEC("cgroup/getpeername4")
int mw_getpeername4(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct mw_orig *o = bpf_map_lookup_elem(&mw_orig_by_cookie, &cookie);
	if (!o || o->family != MW_FAMILY_V4)
		return 1;
	__u32 ip;
	__builtin_memcpy(&ip, o->daddr, 4);
	ctx->user_ip4 = ip;
	ctx->user_port = bpf_htons(o->dport);
	mw_count(MW_CNT_PEER_RESTORED);
	return 1;
}

SEC("cgroup/getpeername6")
int mw_getpeername6(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct mw_orig *o = bpf_map_lookup_elem(&mw_orig_by_cookie, &cookie);
	if (!o)
		return 1;
	__u32 a[4];
	if (o->family == MW_FAMILY_V4) {
		a[0] = 0;
		a[1] = 0;
		a[2] = bpf_htonl(0xffff);
		__builtin_memcpy(&a[3], o->daddr, 4);
	} else {
		__builtin_memcpy(a, o->daddr, 16);
	}
	ctx->user_ip6[0] = a[0];
	ctx->user_ip6[1] = a[1];
	ctx->user_ip6[2] = a[2];
	ctx->user_ip6[3] = a[3];
	ctx->user_port = bpf_htons(o->dport);
	mw_count(MW_CNT_PEER_RESTORED);
	return 1;
}
