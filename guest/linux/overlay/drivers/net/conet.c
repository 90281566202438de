// SPDX-License-Identifier: GPL-2.0
/*
 * conet: coop's network device.  An Ethernet net_device, conetN, for each
 * conet unit the host names in the passage (boot.devs[], its MAC there).
 * A frame is one COOP_CONET_FRAME message (coop's <coop/abi.h>) either
 * way, without FCS: ndo_start_xmit appends it to the to_host window and
 * hands the window over at the end of a burst; received frames come
 * with the conet vIRQ, queued (arch/x86/coop/irq.c), and NAPI turns them
 * into skbs.  A lost or damaged frame is the network's business, as on
 * a wire: the protocols above see to it.
 */
#include <linux/etherdevice.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <asm/coop.h>
#include <coop/abi.h>

struct conet {
	u16 unit;
	struct net_device *dev;
	struct napi_struct napi;
};

static struct conet *conet_units[COOP_BOOT_MAX_DEVS];
static u8 conet_rx_buf[COOP_CONET_FRAME_MAX]; /* NAPI polls run one at a time */

static struct conet *conet_of_unit(u16 unit)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(conet_units); i++)
		if (conet_units[i] && conet_units[i]->unit == unit)
			return conet_units[i];
	return NULL;
}

static netdev_tx_t conet_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct conet *c = netdev_priv(dev);

	if (skb->len > COOP_CONET_FRAME_MAX || skb_linearize(skb)) {
		dev->stats.tx_dropped++;
		goto out;
	}
	coop_msg_send(COOP_DEV_CONET, c->unit, COOP_CONET_FRAME, skb->data, skb->len);
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += skb->len;
out:
	if (!netdev_xmit_more())
		coop_msg_flush();
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
}

/* One received frame to its device's stack. */
static void conet_rx(struct conet *c, u32 len)
{
	struct net_device *dev = c->dev;
	struct sk_buff *skb;

	if (len < ETH_HLEN || len > COOP_CONET_FRAME_MAX) {
		dev->stats.rx_length_errors++;
		return;
	}
	skb = napi_alloc_skb(&c->napi, len);
	if (!skb) {
		dev->stats.rx_dropped++;
		return;
	}
	skb_put_data(skb, conet_rx_buf, len);
	skb->protocol = eth_type_trans(skb, dev);
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += len;
	napi_gro_receive(&c->napi, skb);
}

/*
 * The frames queued for conet (every unit's: one queue), up to budget.
 * Done, a frame that came meanwhile schedules the poll again.
 */
static int conet_poll(struct napi_struct *napi, int budget)
{
	struct coop_msg_hdr h;
	int done = 0;

	while (done < budget &&
	       !coop_msg_recv(COOP_DEV_CONET, &h, conet_rx_buf, sizeof(conet_rx_buf))) {
		struct conet *c = conet_of_unit(h.unit);

		if (h.type != COOP_CONET_FRAME || !c || !netif_running(c->dev))
			continue;
		conet_rx(c, min_t(u32, h.length, sizeof(conet_rx_buf)));
		done++;
	}
	if (done < budget && napi_complete_done(napi, done) && coop_msg_waiting(COOP_DEV_CONET))
		napi_schedule(napi);
	return done;
}

static irqreturn_t conet_interrupt(int irq, void *dev_id)
{
	struct coop_msg_hdr h;

	for (unsigned int i = 0; i < ARRAY_SIZE(conet_units); i++)
		if (conet_units[i] && netif_running(conet_units[i]->dev)) {
			napi_schedule(&conet_units[i]->napi);
			return IRQ_HANDLED;
		}
	/* Nobody up: what came is nobody's. */
	while (!coop_msg_recv(COOP_DEV_CONET, &h, NULL, 0))
		;
	return IRQ_HANDLED;
}

static int conet_open(struct net_device *dev)
{
	struct conet *c = netdev_priv(dev);

	napi_enable(&c->napi);
	netif_start_queue(dev);
	return 0;
}

static int conet_stop(struct net_device *dev)
{
	struct conet *c = netdev_priv(dev);

	netif_stop_queue(dev);
	napi_disable(&c->napi);
	return 0;
}

static const struct net_device_ops conet_ops = {
	.ndo_open = conet_open,
	.ndo_stop = conet_stop,
	.ndo_start_xmit = conet_xmit,
	.ndo_validate_addr = eth_validate_addr,
	.ndo_set_mac_address = eth_mac_addr,
};

static int __init conet_add(unsigned int i, const struct coop_boot_dev *d)
{
	struct net_device *dev = alloc_etherdev(sizeof(struct conet));
	struct conet *c;
	int err;

	if (!dev)
		return -ENOMEM;
	c = netdev_priv(dev);
	c->unit = d->unit;
	c->dev = dev;
	snprintf(dev->name, IFNAMSIZ, "conet%u", d->unit);
	dev->netdev_ops = &conet_ops;
	dev->max_mtu = COOP_CONET_MTU;
	if (is_valid_ether_addr(d->mac))
		eth_hw_addr_set(dev, d->mac);
	else
		eth_hw_addr_random(dev);
	netif_napi_add(dev, &c->napi, conet_poll);
	conet_units[i] = c;
	err = register_netdev(dev);
	if (err) {
		conet_units[i] = NULL;
		netif_napi_del(&c->napi);
		free_netdev(dev);
		return err;
	}
	netdev_info(dev, "conet unit %u, MAC %pM\n", d->unit, dev->dev_addr);
	return 0;
}

static int __init conet_init(void)
{
	const struct coop_boot_params *b;
	unsigned int irq;

	if (!coop_guest())
		return 0;
	b = &coop_passage->boot;
	for (unsigned int i = 0; i < b->ndevs && i < COOP_BOOT_MAX_DEVS; i++)
		if (b->devs[i].device == COOP_DEV_CONET && conet_add(i, &b->devs[i]))
			pr_err("conet: unit %u: no device\n", b->devs[i].unit);
	irq = coop_virq_irq(COOP_VEC_CONET);
	if (!irq || request_irq(irq, conet_interrupt, 0, "coop-conet", NULL)) {
		pr_err("conet: no irq for the conet vIRQ %d\n", COOP_VEC_CONET);
		return -ENODEV;
	}
	return 0;
}
device_initcall(conet_init);
