/* sockops: when a redirected agent connection is established, key its original destination
 * by the client's {ip, port}, which is what the enforcer sees as the peer of the accepted socket. */
#include "include/mw_lib.h"

SEC("sockops")
int mw_sockops(struct bpf_sock_ops *skops)
{
	__u32 op = skops->op;
	if (op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		return 1;

	__u64 cookie = bpf_get_socket_cookie(skops);
	struct mw_orig *o = bpf_map_lookup_elem(&mw_orig_by_cookie, &cookie);
	if (!o)
		return 1;

	/* Read every field unconditionally, then select. */
	__u32 family = skops->family;
	__u32 ip4 = skops->local_ip4;
	__u32 ip6_0 = skops->local_ip6[0];
	__u32 ip6_1 = skops->local_ip6[1];
	__u32 ip6_2 = skops->local_ip6[2];
	__u32 ip6_3 = skops->local_ip6[3];
	__u32 lport = skops->local_port; /* host byte order */
	MW_BARRIER_VAR(family);
	MW_BARRIER_VAR(ip4);
	MW_BARRIER_VAR(ip6_0);
	MW_BARRIER_VAR(ip6_1);
	MW_BARRIER_VAR(ip6_2);
	MW_BARRIER_VAR(ip6_3);

	struct mw_tuple t = {};
	t.port = lport;
	int mapped = ip6_0 == 0 && ip6_1 == 0 && ip6_2 == bpf_htonl(0xffff);
	if (family == MW_AF_INET || mapped) {
		__u32 a = family == MW_AF_INET ? ip4 : ip6_3;
		__builtin_memcpy(t.addr, &a, 4);
		t.family = MW_FAMILY_V4;
	} else {
		__u32 a[4] = {ip6_0, ip6_1, ip6_2, ip6_3};
		__builtin_memcpy(t.addr, a, 16);
		t.family = MW_FAMILY_V6;
	}
	if (bpf_map_update_elem(&mw_orig_by_tuple, &t, o, BPF_ANY))
		mw_count(MW_CNT_TUPLE_STORE_FAIL);
	return 1;
}
