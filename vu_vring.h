/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VU_VRING_H
#define VU_VRING_H

#include "vu_dev.h"

void vu_vring_fds_close(struct vu_dev *vdev, struct virtq *vq);

/* Handlers for vhost_user.c's request table, see vu_handler_t */
int vu_vring_set_num(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_vring_set_addr(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_vring_set_base(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_vring_get_base(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_vring_set_kick(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_vring_set_call(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_vring_set_err(struct vu_dev *vdev, struct vhost_user_msg *msg);
int vu_vring_set_enable(struct vu_dev *vdev, struct vhost_user_msg *msg);

#endif /* VU_VRING_H */
