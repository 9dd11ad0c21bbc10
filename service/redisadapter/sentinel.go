package redisadapter

import (
	"context"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// switchMasterChannel is where a sentinel announces a new master:
// "<name> <old-ip> <old-port> <new-ip> <new-port>".
const switchMasterChannel = "+switch-master"

// sentinelURLOptions returns the failover options of a sentinel REDIS_URL,
// nil for any other URL.
func sentinelURLOptions(rawURL string) *redis.FailoverOptions {
	u, err := url.Parse(rawURL)
	if err != nil || !isSentinelURL(u) {
		return nil
	}
	opt, err := failoverOptions(u)
	if err != nil {
		return nil
	}
	return opt
}

// parseSwitchMaster returns the new master's address from a +switch-master
// payload when it names master.
func parseSwitchMaster(payload, master string) (string, bool) {
	f := strings.Fields(payload)
	if len(f) != 5 || f[0] != master {
		return "", false
	}
	return net.JoinHostPort(f[3], f[4]), true
}

// watchSentinels follows +switch-master on every sentinel of a failover
// client that New built from a sentinel REDIS_URL, and moves the
// subscription connections to the new master when one announces it.
//
// go-redis' failover client drops its idle pooled connections to the old
// master when it learns of a switch, but leaves PubSub connections where
// they are. After a failover that keeps the old master running (SENTINEL
// FAILOVER, a partition) they stay subscribed on a server that no longer
// gets the publishes, until the sentinels demote it and it drops its
// clients, about 10 s later. (After a crash the connection breaks and the
// subscriber reconnects by itself; the replace here is then harmless.)
//
// Every sentinel announces the switch when it learns it; each announcement
// of a new address replaces the connections once more, so that the one of
// the sentinel go-redis asks for the master (unknown here) is counted too.
func (c *Cluster) watchSentinels(opt *redis.FailoverOptions) {
	for _, addr := range opt.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: opt.SentinelUsername,
			Password: opt.SentinelPassword, TLSConfig: opt.TLSConfig})
		ps := sc.Subscribe(context.Background(), switchMasterChannel)
		c.goTracked(func() {
			<-c.stopSubq
			_ = ps.Close()
			_ = sc.Close()
		})
		c.goTracked(func() { c.watchSentinel(addr, opt.MasterName, ps) })
	}
}

func (c *Cluster) watchSentinel(addr, master string, ps *redis.PubSub) {
	ctx := context.Background()
	last := ""
	for {
		// PubSub redials and resubscribes on the next call after an error
		msg, err := ps.ReceiveMessage(ctx)
		select {
		case <-c.stopSubq:
			return
		default:
		}
		if err != nil {
			select {
			case <-c.stopSubq:
				return
			case <-time.After(c.cfg.MaxBackoff):
			}
			continue
		}
		newAddr, ok := parseSwitchMaster(msg.Payload, master)
		if !ok || newAddr == last {
			continue
		}
		last = newAddr
		c.log.Warn("redisadapter: sentinel switched master, moving subscriptions", "sentinel", addr, "master", newAddr)
		c.resubscribeAll(ctx)
	}
}

// resubscribeAll replaces every subscription connection with a new one,
// dialed to wherever the client now resolves the master, with the same
// subscriptions.
func (c *Cluster) resubscribeAll(ctx context.Context) {
	c.mu.Lock()
	subs := make([]*subscriber, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.replace(ctx)
	}
}
