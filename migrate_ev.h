/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate_ev.h - The migration stream's event kind (see util.h)
 *
 * Kept apart from migrate.h only while that file is being rewritten: it
 * belongs there, and migrate.h includes it.
 */
#ifndef MIGRATE_EV_H
#define MIGRATE_EV_H

enum {
	EV_DEVSTATE	= 4,	/* DEVICE_STATE pipe from the front-end */
};

#endif /* MIGRATE_EV_H */
