/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VU_VRING_H
#define VU_VRING_H

#include "vu_dev.h"

void vu_vq_fds_close(struct vu_dev *vdev, struct vu_virtq *vq);

/* Handlers for vhost_user.c's request table, see vu_handler_t */
int vu_set_vring_num(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_set_vring_addr(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_set_vring_base(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_get_vring_base(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_set_vring_kick(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_set_vring_call(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_set_vring_err(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_set_vring_enable(struct vu_dev *vdev, struct vhost_user_msg *msg);

#endif /* VU_VRING_H */
