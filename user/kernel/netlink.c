// SPDX-License-Identifier: GPL-2.0
/* rtnetlink through libmnl: the routes and neighbours of this network namespace. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "netlink.h"

static int addr_len(int family)
{
	return family == 4 ? 4 : 16;
}

/* Send one request (without NLM_F_ACK, so exactly one message answers: the
 * reply or an error) and feed the answer to cb; 0 or -errno, the kernel's
 * error included. */
static int nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	unsigned int seq = time(NULL), portid;
	int ret, err = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0 || mnl_cb_run(buf, ret, seq, portid, cb, data) < 0)
		goto fail;
	mnl_socket_close(nl);
	return 0;
fail:
	err = errno ? -errno : -EIO;
	mnl_socket_close(nl);
	return err;
}

struct route_ans {
	int family;
	unsigned int oif;
	uint8_t *gw;
	bool found;
};

static int route_attr(const struct nlattr *a, void *data)
{
	struct route_ans *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->oif = mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_get_payload_len(a) == addr_len(r->family))
			memcpy(r->gw, mnl_attr_get_payload(a), addr_len(r->family));
		break;
	}
	return MNL_CB_OK;
}

static int route_msg(const struct nlmsghdr *nlh, void *data)
{
	struct route_ans *r = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	r->found = true;
	mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr, r);
	return MNL_CB_OK;
}

int nl_route_get(int family, const uint8_t *addr, unsigned int *oif, uint8_t gw[16])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct route_ans r = { .family = family, .gw = gw };
	struct rtmsg *rtm;
	int err;

	if (family != 4 && family != 6)
		return -EAFNOSUPPORT;
	memset(gw, 0, 16);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family == 4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = addr_len(family) * 8;
	mnl_attr_put(nlh, RTA_DST, addr_len(family), addr);
	err = nl_request(nlh, route_msg, &r);
	if (err)
		return err;
	if (!r.found)
		return -ENOENT;
	*oif = r.oif;
	return 0;
}

struct neigh_ans {
	uint8_t *mac;
	bool found;
};

static int neigh_attr(const struct nlattr *a, void *data)
{
	struct neigh_ans *n = data;

	if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6) {
		memcpy(n->mac, mnl_attr_get_payload(a), 6);
		n->found = true;
	}
	return MNL_CB_OK;
}

static int neigh_msg(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);

	/* Resolved, as /proc/net/arp's ATF_COM: NUD_VALID. */
	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    !(ndm->ndm_state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE |
				NUD_DELAY)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr, data);
	return MNL_CB_OK;
}

int nl_neigh_get(int family, const uint8_t *addr, unsigned int ifindex, uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct neigh_ans n = { .mac = mac };
	struct ndmsg *ndm;
	int err;

	if (family != 4 && family != 6)
		return -EAFNOSUPPORT;
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family == 4 ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, addr_len(family), addr);
	err = nl_request(nlh, neigh_msg, &n);
	if (err == -ENOENT || (!err && !n.found))
		return -ENOENT;
	return err;
}
