// SPDX-License-Identifier: GPL-2.0
/*
 * cobd: coop's block device.  A blk-mq disk, /dev/cobdN, for each cobd
 * unit the host names in the passage (boot.devs[]).  One request is one
 * COOP_COBD_REQUEST message (coop's <coop/abi.h>) naming the request's
 * one physical segment by its guest-physical address
 * (COOP_BOOT_F_PHYS_ADDRS); the host checks it, moves the data between
 * its image and our memory itself and answers with a COOP_COBD_REPLY,
 * whose vIRQ ends the request here.  The message's seq is the request's
 * id: its tag, and in the bits above a count of requests, so a late reply
 * to the tag's earlier request is known and ignored; a request sent again
 * keeps its id (so coop's fault layer sees that the guest noticed).
 *
 * The data is checked end to end with CRC32C: a write's by the host
 * against ours, a read's here against the host's.  A mismatch
 * (-EBADMSG) or a reply that does not come (the request times out) sends
 * the request again, COBD_TRIES times in all; then it fails with an I/O
 * error, as a disk's would.  A message damaged on the way is dropped
 * (arch/x86/coop/irq.c checks every message's CRC32C): its request times
 * out (`cobd.timeout_ms=`, default 5000).  `cobd.nocrc=1` on the command
 * line turns the checks off: what a corruption on the way does then is the
 * experiment.
 *
 * One CPU: the queue's work and the vIRQ handler meet with interrupts
 * off, which is the lock.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <asm/coop.h>
#include <coop/abi.h>

#define COBD_DEPTH 32             /* requests in flight per disk (tags) */
#define COBD_TRIES 4              /* sends of one request at most */
#define COBD_MINORS 16            /* a disk and 15 partitions */
#define COBD_TAG_BITS 16          /* the id: requests << 16 | tag */

static bool cobd_nocrc;
module_param_named(nocrc, cobd_nocrc, bool, 0444);
MODULE_PARM_DESC(nocrc, "no CRC32C end-to-end checks of the data");
/* (blk-mq rounds request timeouts up to whole seconds.) */
static unsigned int cobd_timeout_ms = 5000;
module_param_named(timeout_ms, cobd_timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "without a reply after this long, a request is sent again");

/* A disk: one cobd unit. */
struct cobd {
	u16 unit;
	u64 requests;             /* requests so far: the high bits of ids */
	struct blk_mq_tag_set set;
	struct gendisk *disk;
};

/* What a request carries (blk-mq's per-request data). */
struct cobd_cmd {
	struct coop_cobd_request req;
	u64 id;                   /* its id, which a reply must carry */
	unsigned int tries;       /* sends so far */
	bool waiting;             /* sent, neither answered nor failed */
	blk_status_t status;      /* how it ended (cobd_complete) */
};

static struct cobd *cobd_units[COOP_BOOT_MAX_DEVS];
static int cobd_major;

/* CRC32C as coop computes it (zlib style: ~ on entry and exit). */
static u32 cobd_crc(const struct coop_cobd_request *r)
{
	return ~__crc32c_le(~0u, phys_to_virt(r->addr), r->length);
}

/* Send (again) a request; the caller has interrupts off. */
static void cobd_send(struct cobd *c, struct request *rq, bool flush)
{
	struct cobd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	if (cmd->req.op == COOP_COBD_WRITE && !cobd_nocrc)
		cmd->req.data_crc32c = cobd_crc(&cmd->req);
	cmd->tries++;
	cmd->waiting = true;
	coop_msg_send_id(COOP_DEV_COBD, c->unit, COOP_COBD_REQUEST, cmd->id,
			 cobd_nocrc ? COOP_MSG_F_NOCRC : 0, &cmd->req, sizeof(cmd->req));
	if (flush)
		coop_msg_flush();
}

static void cobd_end(struct request *rq, blk_status_t status)
{
	struct cobd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->waiting = false;
	cmd->status = status;
	blk_mq_complete_request(rq);
}

static blk_status_t cobd_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct cobd *c = hctx->queue->queuedata;
	struct cobd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct coop_cobd_request *r = &cmd->req;
	struct scatterlist sg;
	unsigned long flags;

	memset(r, 0, sizeof(*r));
	switch (req_op(rq)) {
	case REQ_OP_READ:
		r->op = COOP_COBD_READ;
		break;
	case REQ_OP_WRITE:
		r->op = COOP_COBD_WRITE;
		break;
	case REQ_OP_FLUSH:
		r->op = COOP_COBD_FLUSH;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	blk_mq_start_request(rq);
	if (r->op != COOP_COBD_FLUSH) {
		/* One segment (max_segments 1): physically contiguous. */
		sg_init_table(&sg, 1);
		if (blk_rq_map_sg(rq->q, rq, &sg) != 1 || sg.length != blk_rq_bytes(rq))
			return BLK_STS_IOERR;
		r->offset = blk_rq_pos(rq) << SECTOR_SHIFT;
		r->length = blk_rq_bytes(rq);
		r->addr = sg_phys(&sg);
		if (cobd_nocrc)
			r->flags = COOP_COBD_F_NODATACRC;
	}
	cmd->tries = 0;
	local_irq_save(flags);
	cmd->id = ++c->requests << COBD_TAG_BITS | rq->tag;
	cobd_send(c, rq, bd->last);
	local_irq_restore(flags);
	return BLK_STS_OK;
}

/* The requests queued without bd->last: to the host now. */
static void cobd_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	coop_msg_flush();
}

static void cobd_complete(struct request *rq)
{
	struct cobd_cmd *cmd = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, cmd->status);
}

/* No reply in cobd.timeout_ms: send it again, or give up. */
static enum blk_eh_timer_return cobd_timeout(struct request *rq)
{
	struct cobd *c = rq->q->queuedata;
	struct cobd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	enum blk_eh_timer_return ret = BLK_EH_DONE;
	unsigned long flags;

	local_irq_save(flags);
	if (cmd->waiting && cmd->tries < COBD_TRIES) {
		pr_warn_ratelimited("%s: no reply to request %llu, sending it again\n",
				    c->disk->disk_name, cmd->id);
		cobd_send(c, rq, true);
		ret = BLK_EH_RESET_TIMER;
	} else if (cmd->waiting) {
		pr_err_ratelimited("%s: no reply to request %llu after %u tries\n",
				   c->disk->disk_name, cmd->id, cmd->tries);
		cobd_end(rq, BLK_STS_TIMEOUT);
	}
	local_irq_restore(flags);
	return ret;
}

static const struct blk_mq_ops cobd_mq_ops = {
	.queue_rq = cobd_queue_rq,
	.commit_rqs = cobd_commit_rqs,
	.complete = cobd_complete,
	.timeout = cobd_timeout,
};

static const struct block_device_operations cobd_fops = {
	.owner = THIS_MODULE,
};

/* A reply: end its request, or send it again if the data came damaged. */
static void cobd_reply(struct cobd *c, u64 id, const struct coop_cobd_reply *rep)
{
	unsigned int tag = id & ((1u << COBD_TAG_BITS) - 1);
	struct request *rq;
	struct cobd_cmd *cmd;
	int status = rep->status;

	if (tag >= COBD_DEPTH)
		return;
	rq = blk_mq_tag_to_rq(c->set.tags[0], tag);
	if (!rq || !blk_mq_request_started(rq))
		return;
	cmd = blk_mq_rq_to_pdu(rq);
	if (!cmd->waiting || cmd->id != id)
		return; /* the tag's earlier request's, or no longer waited for */
	if (!status && cmd->req.op != COOP_COBD_FLUSH && rep->length != cmd->req.length)
		status = -EIO;
	if (!status && cmd->req.op == COOP_COBD_READ && !cobd_nocrc &&
	    cobd_crc(&cmd->req) != rep->data_crc32c)
		status = -EBADMSG;
	if (status == -EBADMSG && cmd->tries < COBD_TRIES) {
		cobd_send(c, rq, true);
		return;
	}
	if (status)
		pr_err_ratelimited("%s: request %llu (op %u, sector %llu, %u bytes): error %d\n",
				   c->disk->disk_name, id, cmd->req.op,
				   cmd->req.offset >> SECTOR_SHIFT, cmd->req.length, status);
	cobd_end(rq, status ? errno_to_blk_status(status) : BLK_STS_OK);
}

/* The cobd vIRQ: replies are queued (arch/x86/coop/irq.c). */
static irqreturn_t cobd_interrupt(int irq, void *dev_id)
{
	struct coop_cobd_reply rep;
	struct coop_msg_hdr h;

	while (!coop_msg_recv(COOP_DEV_COBD, &h, &rep, sizeof(rep))) {
		if (h.type != COOP_COBD_REPLY || h.length < sizeof(rep))
			continue;
		for (unsigned int i = 0; i < ARRAY_SIZE(cobd_units); i++)
			if (cobd_units[i] && cobd_units[i]->unit == h.unit)
				cobd_reply(cobd_units[i], h.seq, &rep);
	}
	return IRQ_HANDLED;
}

static int __init cobd_add(unsigned int i, const struct coop_boot_dev *dev)
{
	struct cobd *c = kzalloc(sizeof(*c), GFP_KERNEL);
	struct request_queue *q;
	int err;

	if (!c)
		return -ENOMEM;
	c->unit = dev->unit;
	c->set = (struct blk_mq_tag_set){
		.ops = &cobd_mq_ops,
		.nr_hw_queues = 1,
		.queue_depth = COBD_DEPTH,
		.numa_node = NUMA_NO_NODE,
		.cmd_size = sizeof(struct cobd_cmd),
		.flags = BLK_MQ_F_SHOULD_MERGE,
		.driver_data = c,
	};
	err = blk_mq_alloc_tag_set(&c->set);
	if (err)
		goto free;
	c->disk = blk_mq_alloc_disk(&c->set, c);
	if (IS_ERR(c->disk)) {
		err = PTR_ERR(c->disk);
		goto free_set;
	}
	q = c->disk->queue;
	blk_queue_max_segments(q, 1);
	blk_queue_max_segment_size(q, COOP_COBD_MAX_IO);
	blk_queue_max_hw_sectors(q, COOP_COBD_MAX_IO >> SECTOR_SHIFT);
	blk_queue_logical_block_size(q, COOP_COBD_SECTOR);
	blk_queue_write_cache(q, true, false);
	/* The data must not change between its CRC and the host's read of it. */
	blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, q);
	blk_queue_rq_timeout(q, max(1u, msecs_to_jiffies(cobd_timeout_ms)));
	c->disk->major = cobd_major;
	c->disk->first_minor = i * COBD_MINORS;
	c->disk->minors = COBD_MINORS;
	c->disk->fops = &cobd_fops;
	c->disk->private_data = c;
	snprintf(c->disk->disk_name, DISK_NAME_LEN, "cobd%u", dev->unit);
	set_capacity(c->disk, dev->size >> SECTOR_SHIFT);
	set_disk_ro(c->disk, dev->flags & COOP_COBD_F_RO);
	cobd_units[i] = c;
	err = add_disk(c->disk);
	if (err) {
		cobd_units[i] = NULL;
		goto put_disk;
	}
	pr_info("%s: %llu sectors%s, CRC32C checks %s\n", c->disk->disk_name,
		dev->size >> SECTOR_SHIFT, dev->flags & COOP_COBD_F_RO ? ", read-only" : "",
		cobd_nocrc ? "off" : "on");
	return 0;

put_disk:
	put_disk(c->disk);
free_set:
	blk_mq_free_tag_set(&c->set);
free:
	kfree(c);
	return err;
}

static int __init cobd_init(void)
{
	const struct coop_boot_params *b;
	unsigned int irq;

	if (!coop_guest())
		return 0;
	b = &coop_passage->boot;
	irq = coop_virq_irq(COOP_VEC_COBD);
	if (!irq || request_irq(irq, cobd_interrupt, 0, "coop-cobd", NULL)) {
		pr_err("cobd: no irq for the cobd vIRQ %d\n", COOP_VEC_COBD);
		return -ENODEV;
	}
	cobd_major = register_blkdev(0, "cobd");
	if (cobd_major < 0)
		return cobd_major;
	for (unsigned int i = 0; i < b->ndevs && i < COOP_BOOT_MAX_DEVS; i++)
		if (b->devs[i].device == COOP_DEV_COBD && cobd_add(i, &b->devs[i]))
			pr_err("cobd: unit %u: no disk\n", b->devs[i].unit);
	return 0;
}
device_initcall(cobd_init);
