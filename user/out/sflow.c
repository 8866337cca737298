// SPDX-License-Identifier: GPL-2.0
/* sFlow version 5 datagrams (sflow.org/sflow_version_5.txt): flow samples with raw headers, interface counters. */
#include <string.h>
#include <sys/socket.h>

#include "sflow.h"

#define SFLOW_VERSION		5
#define SFLOW_ADDR_IP4		1
#define SFLOW_ADDR_IP6		2
#define SFLOW_FLOW_SAMPLE	1	/* enterprise 0, format 1 */
#define SFLOW_COUNTERS_SAMPLE	2	/* enterprise 0, format 2 */
#define SFLOW_REC_HEADER	1	/* flow record: sampled_header */
#define SFLOW_REC_GENERIC_IF	1	/* counter record: generic interface counters */
#define SFLOW_GENERIC_IF_LEN	88
#define SFLOW_COUNTERS_SIZE	(8 + 12 + 8 + SFLOW_GENERIC_IF_LEN)

static uint32_t pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

/* XDR: big-endian 32- and 64-bit integers, opaque data padded to 4 bytes. */
static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	return put32(put32(p, v >> 32), v);
}

static uint8_t *put_opaque(uint8_t *p, const uint8_t *data, uint32_t len)
{
	memcpy(p, data, len);
	memset(p + len, 0, pad4(len) - len);
	return p + pad4(len);
}

size_t sflow_header_len(const struct sflow_agent *a)
{
	return 4 * 6 + (a->family == AF_INET6 ? 16 : 4);
}

size_t sflow_flow_size(uint32_t header_len)
{
	/* format, length; 8 fields; record format, length; 4 fields; the bytes */
	return 8 + 32 + 8 + 16 + pad4(header_len);
}

void sflow_begin(struct sflow_dgram *d, const struct sflow_agent *a)
{
	d->agent = *a;
	d->n_samples = 0;
	d->len = sflow_header_len(a);
}

bool sflow_add_flow(struct sflow_dgram *d, const struct sflow_flow *f)
{
	size_t size = sflow_flow_size(f->header_len);
	uint8_t *p = d->buf + d->len;

	if (d->len + size > sizeof(d->buf))
		return false;
	p = put32(p, SFLOW_FLOW_SAMPLE);
	p = put32(p, size - 8);
	p = put32(p, f->sequence);
	p = put32(p, f->source_ifindex & 0xffffff);	/* class 0: ifIndex */
	p = put32(p, f->sampling_rate);
	p = put32(p, f->sample_pool);
	p = put32(p, f->drops);
	p = put32(p, f->input & 0x3fffffff);		/* format 0: one ifIndex */
	p = put32(p, f->output & 0x3fffffff);
	p = put32(p, 1);				/* one flow record */
	p = put32(p, SFLOW_REC_HEADER);
	p = put32(p, 16 + pad4(f->header_len));
	p = put32(p, SFLOW_HEADER_ETHERNET);
	p = put32(p, f->frame_length);
	p = put32(p, f->stripped);
	p = put32(p, f->header_len);
	put_opaque(p, f->header, f->header_len);
	d->len += size;
	d->n_samples++;
	return true;
}

bool sflow_add_counters(struct sflow_dgram *d, const struct sflow_if_counters *c)
{
	uint8_t *p = d->buf + d->len;

	if (d->len + SFLOW_COUNTERS_SIZE > sizeof(d->buf))
		return false;
	p = put32(p, SFLOW_COUNTERS_SAMPLE);
	p = put32(p, SFLOW_COUNTERS_SIZE - 8);
	p = put32(p, c->sequence);
	p = put32(p, c->ifindex & 0xffffff);
	p = put32(p, 1);				/* one counter record */
	p = put32(p, SFLOW_REC_GENERIC_IF);
	p = put32(p, SFLOW_GENERIC_IF_LEN);
	p = put32(p, c->ifindex);
	p = put32(p, c->type);
	p = put64(p, c->speed);
	p = put32(p, c->direction);
	p = put32(p, c->status);
	p = put64(p, c->in_octets);
	p = put32(p, c->in_ucast);
	p = put32(p, c->in_mcast);
	p = put32(p, c->in_bcast);
	p = put32(p, c->in_discards);
	p = put32(p, c->in_errors);
	p = put32(p, c->in_unknown_protos);
	p = put64(p, c->out_octets);
	p = put32(p, c->out_ucast);
	p = put32(p, c->out_mcast);
	p = put32(p, c->out_bcast);
	p = put32(p, c->out_discards);
	p = put32(p, c->out_errors);
	put32(p, c->promiscuous);
	d->len += SFLOW_COUNTERS_SIZE;
	d->n_samples++;
	return true;
}

size_t sflow_finish(struct sflow_dgram *d, uint32_t sequence, uint32_t uptime_ms)
{
	uint8_t *p = d->buf;

	if (!d->n_samples)
		return 0;
	p = put32(p, SFLOW_VERSION);
	if (d->agent.family == AF_INET6) {
		p = put32(p, SFLOW_ADDR_IP6);
		memcpy(p, d->agent.addr, 16);
		p += 16;
	} else {
		p = put32(p, SFLOW_ADDR_IP4);
		memcpy(p, d->agent.addr, 4);
		p += 4;
	}
	p = put32(p, d->agent.sub_agent_id);
	p = put32(p, sequence);
	p = put32(p, uptime_ms);
	put32(p, d->n_samples);
	return d->len;
}
