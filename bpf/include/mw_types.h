/* Types shared between the eBPF programs and the Go loader (bpf2go generates Go twins of them). */
#ifndef MW_TYPES_H
#define MW_TYPES_H

#include <linux/types.h>

/* Verdicts: the same numbers as policy.Verdict. */
#define MW_VERDICT_NONE 0
#define MW_VERDICT_ALLOW 1
#define MW_VERDICT_DENY 2
#define MW_VERDICT_REDIRECT 3

/* Why a verdict was taken (mw_flow_event.reason). */
#define MW_REASON_RULE_PORT 1    /* (src zone, dst zone, port) rule */
#define MW_REASON_RULE_ANY 2     /* (src zone, dst zone, any port) rule */
#define MW_REASON_DEFAULT 3      /* no rule: the default verdict */
#define MW_REASON_NOT_STREAM 4   /* REDIRECT asked for a non-stream socket: refused (fail closed) */
#define MW_REASON_NO_RECORD 5    /* REDIRECT but the original destination could not be stored: refused */

/* Per-CPU counter slots (mw_counters). */
#define MW_CNT_ALLOW 0
#define MW_CNT_DENY 1
#define MW_CNT_REDIRECT 2
#define MW_CNT_RINGBUF_DROP 3
#define MW_CNT_ORIG_STORE_FAIL 4
#define MW_CNT_TUPLE_STORE_FAIL 5
#define MW_CNT_ORIG_DST_ANSWERED 6
#define MW_CNT_PEER_RESTORED 7
#define MW_CNT_MAX 8

#define MW_FAMILY_V4 4
#define MW_FAMILY_V6 6

#define MW_COMM_LEN 16

/* Generations: every table the datapath reads exists twice (generation 0 and 1) and
 * mw_state says which one is live, so a policy reload is one 4-byte write. */
struct mw_gen {
	__u32 gen;
};

struct mw_cfg {
	__u32 enforcer_ip4;     /* network byte order */
	__u8 enforcer_ip6[16];  /* network byte order */
	__u16 enforcer_port;    /* host byte order */
	__u8 default_verdict;
	__u8 pad;
	__u64 enforcer_cgroup;
};

struct mw_endpoint_slot {
	__u32 agent; /* index of the agent in the policy */
	__u32 zone;  /* 0: not an agent in this generation */
};

struct mw_endpoint {
	struct mw_endpoint_slot slot[2]; /* indexed by generation */
};

struct mw_lpm4_key {
	__u32 prefixlen; /* 32 (generation word) + prefix length */
	__u8 gen;
	__u8 pad[3];
	__u8 addr[4];
};

struct mw_lpm6_key {
	__u32 prefixlen; /* 32 (generation word) + prefix length */
	__u8 gen;
	__u8 pad[3];
	__u8 addr[16];
};

struct mw_policy_key {
	__u8 gen;
	__u8 pad;
	__u16 port; /* host byte order, 0 = any port */
	__u32 src_zone;
	__u32 dst_zone;
};

/* The original destination of a redirected connection and who made it. */
struct mw_orig {
	__u8 daddr[16];  /* IPv4 in the first 4 bytes, network byte order */
	__u16 dport;     /* host byte order */
	__u8 family;     /* MW_FAMILY_V4 or MW_FAMILY_V6 */
	__u8 pad;
	__u32 agent;
	__u64 cgroup_id;
	__u64 cookie;    /* the agent socket's cookie */
	__u32 pid;
	__u32 src_zone;
	__u32 dst_zone;
	__u32 pad2;
	char comm[MW_COMM_LEN];
};

/* A socket's local endpoint as the enforcer sees the peer: {ip, port}. */
struct mw_tuple {
	__u8 addr[16];  /* IPv4 in the first 4 bytes, network byte order */
	__u16 port;     /* host byte order */
	__u8 family;
	__u8 pad;
};

/* One connect() decision, sent through the ring buffer. */
struct mw_flow_event {
	__u64 ts_ns;
	__u64 cookie;
	__u64 cgroup_id;
	__u32 pid;
	__u32 agent;
	__u32 src_zone;
	__u32 dst_zone;
	__u8 verdict;
	__u8 family;
	__u8 proto;     /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 reason;
	__u16 dport;    /* host byte order */
	__u16 pad;
	__u8 daddr[16];
	char comm[MW_COMM_LEN];
};

/* An agent's TCP connection from connect() to its close, kept with the socket (sk storage):
 * connect4/6 fill it for ALLOW and REDIRECT, sockops stamps the start when the connection is
 * established and reports the close. */
struct mw_sk_flow {
	struct mw_orig o;    /* the (original) destination, agent, zones, pid, comm, cookie */
	__u64 start_ns;      /* CLOCK_BOOTTIME when established; 0 until then */
	__u64 acked_base;    /* bytes_acked when established: the SYN */
	__u64 received_base; /* bytes_received when established */
	__u64 received_fw2;  /* bytes_received when FIN_WAIT2 was entered */
	__u8 verdict;
	__u8 fins;           /* MW_FIN_* seen so far: the kernel's byte counts include FINs */
	__u8 pad[6];
};

#define MW_FIN_PEER 1 /* the peer's FIN was received (counted in bytes_received) */
#define MW_FIN_OWN 2  /* our FIN was acknowledged (counted in bytes_acked) */

/* One agent TCP connection's close, sent through the ring buffer beside mw_flow_event. The
 * reader tells the two apart by size, which mw_lib.h asserts differ. */
struct mw_close_event {
	__u64 ts_ns;          /* CLOCK_BOOTTIME of the close */
	__u64 cookie;         /* the agent socket's cookie, as in its mw_flow_event */
	__u64 cgroup_id;
	__u64 duration_ns;    /* established to closed */
	__u64 bytes_sent;     /* data sent by the agent and acknowledged by the peer */
	__u64 bytes_received; /* data received by the agent */
	__u32 pid;            /* the process that called connect() */
	__u32 agent;
	__u32 src_zone;
	__u32 dst_zone;
	__u8 verdict;         /* of the connect(): ALLOW or REDIRECT */
	__u8 family;
	__u16 dport;          /* host byte order; the original destination's for REDIRECT */
	__u32 pad;
	__u8 daddr[16];
	char comm[MW_COMM_LEN];
};

#endif
