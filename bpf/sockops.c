/* sockops: when a redirected agent connection is established, key its original destination
 * by the client's {ip, port}, which is what the enforcer sees as the peer of the accepted socket.
 * Every tracked agent TCP connection (mw_sk_flows, filled at connect()) gets its start stamped
 * when established and asks for state callbacks; on TCP_CLOSE its close event is sent. */
#include "include/mw_lib.h"

/* Stamps a tracked connection's start and byte baselines and asks for TCP state callbacks. */
static __always_inline void mw_flow_established(struct bpf_sock_ops *skops, struct bpf_sock *sk,
						__u64 acked, __u64 received)
{
	struct mw_sk_flow *f = bpf_sk_storage_get(&mw_sk_flows, sk, 0, 0);
	if (!f)
		return;
	f->start_ns = bpf_ktime_get_boot_ns();
	f->acked_base = acked;
	f->received_base = received;
	f->received_fw2 = 0;
	f->fins = 0;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
}

/* The kernel's bytes_acked and bytes_received count sequence space: the SYN (taken off with the
 * baselines) and the FINs. Tracks which FINs went by, and on TCP_CLOSE (closed, reset, or handed
 * to TIME_WAIT) reports the connection's data bytes once. */
static __always_inline void mw_flow_state(struct bpf_sock *sk, __u32 old, __u32 state, __u64 acked,
					  __u64 received, __u32 snd_una, __u32 snd_nxt)
{
	struct mw_sk_flow *f = bpf_sk_storage_get(&mw_sk_flows, sk, 0, 0);
	if (!f || !f->start_ns)
		return;
	if (state == BPF_TCP_CLOSE_WAIT || state == BPF_TCP_CLOSING) {
		f->fins |= MW_FIN_PEER;
		return;
	}
	if (state == BPF_TCP_FIN_WAIT2) { /* entered when our FIN is acknowledged */
		f->fins |= MW_FIN_OWN;
		f->received_fw2 = received;
		return;
	}
	if (state != BPF_TCP_CLOSE)
		return;
	__u8 fins = f->fins;
	/* FIN_WAIT2 ends on the peer's FIN, or on a timeout or reset: an orphaned socket resets
	 * on data, so growth here is the FIN (a half-closed one may also take data, then its FIN). */
	if (old == BPF_TCP_FIN_WAIT2 && received > f->received_fw2)
		fins |= MW_FIN_PEER;
	/* LAST_ACK and CLOSING end when everything sent, our FIN included, is acknowledged. */
	if ((old == BPF_TCP_LAST_ACK || old == BPF_TCP_CLOSING) && snd_una == snd_nxt)
		fins |= MW_FIN_OWN;
	__u64 sent = acked - f->acked_base - ((fins & MW_FIN_OWN) ? 1 : 0);
	__u64 got = received - f->received_base - ((fins & MW_FIN_PEER) ? 1 : 0);
	if ((__s64)sent < 0)
		sent = 0;
	if ((__s64)got < 0)
		got = 0;
	mw_emit_close(f, bpf_ktime_get_boot_ns(), sent, got);
	bpf_sk_storage_delete(&mw_sk_flows, sk);
}

SEC("sockops")
int mw_sockops(struct bpf_sock_ops *skops)
{
	/* Fixed ctx offsets, each read once up front (never at an offset a branch chooses). */
	__u32 op = skops->op;
	struct bpf_sock *sk = skops->sk;
	__u64 acked = skops->bytes_acked;
	__u64 received = skops->bytes_received;
	MW_BARRIER_VAR(acked);
	MW_BARRIER_VAR(received);
	if (!sk)
		return 1;

	if (op == BPF_SOCK_OPS_STATE_CB) {
		__u32 old = skops->args[0];
		__u32 state = skops->args[1];
		__u32 snd_una = skops->snd_una;
		__u32 snd_nxt = skops->snd_nxt;
		MW_BARRIER_VAR(old);
		MW_BARRIER_VAR(state);
		MW_BARRIER_VAR(snd_una);
		MW_BARRIER_VAR(snd_nxt);
		mw_flow_state(sk, old, state, acked, received, snd_una, snd_nxt);
		return 1;
	}
	if (op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		return 1;

	mw_flow_established(skops, sk, acked, received);

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
