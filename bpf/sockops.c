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

	struct mw_tuple t = {};
	mw_tuple_of(&t, skops->family, skops->local_ip4, skops->local_ip6[0], skops->local_ip6[1],
		    skops->local_ip6[2], skops->local_ip6[3], skops->local_port /* host order */);
	if (bpf_map_update_elem(&mw_orig_by_tuple, &t, o, BPF_ANY))
		mw_count(MW_CNT_TUPLE_STORE_FAIL);
	return 1;
}
