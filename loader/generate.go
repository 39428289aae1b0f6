package loader

//go:generate go tool bpf2go -cc clang-14 -cflags "-O2 -g -Wall -Werror -mcpu=v3 -I/usr/include/x86_64-linux-gnu" -target bpfel -no-global-types -type mw_flow_event -type mw_close_event -type mw_orig -type mw_tuple -type mw_cfg -type mw_endpoint -type mw_endpoint_slot -type mw_lpm4_key -type mw_lpm6_key -type mw_policy_key -type mw_gen mw ../bpf/meshwarden.c -- -I../bpf/include
