// SPDX-License-Identifier: GPL-2.0
/* The command table: every command's arguments, options and help, once.
 *
 * `fringe help`, each command's usage line and the SYNOPSIS of docs/fringe.8
 * are rendered from it (tests/unit/test_cli.c checks the man page; `make man`
 * rewrites it).  A new command is one row here and its function. */
#include "cli.h"

#define END { 0 }

const struct cli_opt cli_global_opts[] = {
	{ "--pin-dir", "DIR", 0, 0, "the bpffs dir of fringe's pinned state" },
	{ "-v", NULL, 0, 0, "more messages (twice: debug)" },
	{ "--json", NULL, 0, 0, "one JSON document on stdout, errors included" },
	END,
};

const struct cli_cmd cli_commands[] = {
	{ "attach", cmd_attach, "IFACE", (const struct cli_opt[]){
		{ "--mode", "native|generic|auto", 0, 0, "XDP mode; auto tries native first" },
		{ "--egress", NULL, 0, 0, "also judge what leaves IFACE (TC egress)" },
		{ "--force", NULL, 0, 0, "replace a foreign XDP program that cannot be shared" },
		{ "--size", "NAME=N", CLI_OPT_MULTI, 0, "a size of the tables of a state made now (fringe(8), SIZES)" },
		END }, "judge the packets arriving on IFACE" },
	{ "detach", cmd_detach, "IFACE", NULL, "stop judging IFACE (ingress and egress)" },
	{ "policy check", cmd_policy_check, "FILE", NULL,
	  "parse and compile a policy; report every error; change nothing" },
	{ "policy load", cmd_policy_load, "FILE", (const struct cli_opt[]){
		{ "--confirm", "SECONDS", 0, 0, "revert unless 'policy confirm' follows in time" },
		END }, "put a policy in force, atomically" },
	{ "policy confirm", cmd_policy_confirm, "", NULL,
	  "keep the policy loaded with --confirm" },
	{ "policy show", cmd_policy_show, "", (const struct cli_opt[]){
		{ "--staged", NULL, 0, 0, "the staged policy instead, with what it would have counted" },
		END }, "the policy in force with per-rule counters" },
	{ "policy stage", cmd_policy_stage, "FILE", NULL,
	  "install a policy beside the one in force: it judges every packet, decides none" },
	{ "policy diff", cmd_policy_diff, "", NULL,
	  "the packets whose verdict the staged policy would change, by pair of rules" },
	{ "policy promote", cmd_policy_promote, "", (const struct cli_opt[]){
		{ "--confirm", "SECONDS", 0, 0, "revert unless 'policy confirm' follows in time" },
		END }, "put the staged policy in force, as 'policy load' would" },
	{ "policy unstage", cmd_policy_unstage, "", NULL, "remove the staged policy" },
	{ "policy test", cmd_policy_test, "FILE", (const struct cli_opt[]){
		{ "--pcap", "CAPTURE", CLI_OPT_REQUIRED, 0, "the capture to replay" },
		{ "--verbose", NULL, 0, 0, "the verdict of every packet" },
		END }, "replay a capture through a policy in a private data plane" },
	{ "learn", cmd_learn, "", (const struct cli_opt[]){
		{ "--duration", "SECONDS", CLI_OPT_REQUIRED, 0, "how long to watch" },
		{ "--output", "FILE", CLI_OPT_REQUIRED, 0, "where to write the policy ('-': stdout)" },
		END }, "watch the traffic and write a least-privilege policy" },
	{ "dns show", cmd_dns_show, "", NULL,
	  "addresses learned for the policy's DNS names, with their sets and expiry" },
	{ "mud import", cmd_mud_import, "FILE", (const struct cli_opt[]){
		{ "--device", "NAME", 0, 0, "the device the profile is for (rules say 'device NAME')" },
		{ "--mac", "MAC", 0, 0, "its MAC (with --device: a device line)" },
		{ "--ip", "ADDR", CLI_OPT_MULTI, 0, "its address, for the to-device rules" },
		{ "--map", "ABSTRACTION=@SET", CLI_OPT_MULTI, 0, "the set a MUD abstraction stands for" },
		END }, "translate a MUD profile (RFC 8520) into a policy fragment" },
	{ "nodes check", cmd_nodes_check, "FILE", NULL,
	  "parse a nodes file; report every error; change nothing" },
	{ "nodes load", cmd_nodes_load, "FILE", NULL, "put the overlay's nodes in force" },
	{ "nodes show", cmd_nodes_show, "", NULL, "the overlay's nodes with their counters" },
	{ "cluster status", cmd_cluster_status, "", NULL,
	  "the etcd members and their health, the revision, this node's lease, the nodes seen" },
	{ "stats", cmd_stats, "", (const struct cli_opt[]){
		{ "--interval", "SECONDS", 0, 0, "print again every SECONDS until Ctrl-C" },
		END }, "verdicts and drops per interface, apps, devices, overlay" },
	{ "flows", cmd_flows, "", (const struct cli_opt[]){
		{ "--top", "N", 0, 0, "the N heaviest flows (10)" },
		{ "--enable", NULL, 0, 1, "turn the flow table on" },
		{ "--disable", NULL, 0, 1, "turn the flow table off and clear it" },
		END }, "the flow table, heaviest first" },
	{ "sample", cmd_sample, "", (const struct cli_opt[]){
		{ "--pcap", "FILE", CLI_OPT_REQUIRED | CLI_OPT_COMBINE, 1, "write samples to a pcap file ('-': stdout)" },
		{ "--sflow", "HOST:PORT", CLI_OPT_REQUIRED | CLI_OPT_COMBINE, 1, "send samples as sFlow v5" },
		{ "--count", "N", 0, 0, "stop after N samples" },
		{ "--duration", "SECONDS", 0, 0, "stop after SECONDS" },
		{ "--agent", "ADDR", 0, 0, "the sFlow agent address" },
		{ "--bytes", "N", 0, 0, "bytes kept per sample" },
		END }, "take the packets that rules with 'sample 1/N' sample" },
	{ "metrics", cmd_metrics, "", NULL, "Prometheus text exposition, once, on stdout" },
	{ "daemon", cmd_daemon, "", (const struct cli_opt[]){
		{ "--config", "FILE", CLI_OPT_REQUIRED, 0, "the daemon's config file" },
		{ "--check", NULL, 0, 0, "check the config and the files it names, then exit" },
		END }, "keep interfaces, policy and nodes as the config says; serve metrics" },
	{ "status", cmd_status, "", NULL, "interfaces, policy and map memory" },
	{ "version", cmd_version, "", NULL, "the version of fringe" },
	{ "help", cmd_help, "[COMMAND...]", NULL, "this help, or a command's" },
	END,
};
