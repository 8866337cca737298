/* SPDX-License-Identifier: GPL-2.0 */
/* rtnetlink through libmnl: the routes and neighbours of this network namespace. */
#ifndef FRINGE_NETLINK_H
#define FRINGE_NETLINK_H

#include <stdint.h>

/* The route the kernel would take toward addr (family 4: AF_INET, 6: AF_INET6):
 * its output interface, and its gateway in gw (all zero when on-link).
 * 0 or -errno (-ENETUNREACH, -EHOSTUNREACH when there is none). */
int nl_route_get(int family, const uint8_t *addr, unsigned int *oif, uint8_t gw[16]);

/* The link-layer address of a valid (resolved) neighbour entry for addr on
 * ifindex; 0, -ENOENT when there is none (or it is not resolved), or -errno. */
int nl_neigh_get(int family, const uint8_t *addr, unsigned int ifindex, uint8_t mac[6]);

#endif
