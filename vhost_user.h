/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VHOST_USER_H
#define VHOST_USER_H

#include "vu_dev.h"

void vu_dev_init(struct vu_dev *vdev, int epollfd);
int vu_listen(struct vu_dev *vdev, const char *path);
int vu_accept(struct vu_dev *vdev);
int vu_set_conn(struct vu_dev *vdev, int fd);
int vu_control_handler(struct vu_dev *vdev, uint32_t events);
void vu_disconnect(struct vu_dev *vdev);
bool vu_sigbus_check(struct vu_dev *vdev);
bool vu_queue_ready(const struct vu_dev *vdev, unsigned qidx);

/* For the unit tests and the fuzzer: one message, already received */
int vu_req_handle(struct vu_dev *vdev, struct vhost_user_msg *msg,
		  bool *reply);

#endif /* VHOST_USER_H */
