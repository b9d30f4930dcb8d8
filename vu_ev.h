/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vu_ev.h - The vhost-user layer's event kinds (see util.h)
 *
 * Kept apart from vhost_user.h only while that file is being split: it
 * belongs there, and vhost_user.h includes it.
 */
#ifndef VU_EV_H
#define VU_EV_H

enum {
	EV_VU_LISTEN	= 1,	/* vhost-user listening socket */
	EV_VU_CONN	= 2,	/* vhost-user control connection */
	EV_VU_KICK	= 3,	/* virtqueue kick eventfd, index: queue */
};

#endif /* VU_EV_H */
