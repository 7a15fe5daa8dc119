package main

import (
	"context"
	"log"
	"time"

	"github.com/florianl/go-nfqueue"
	"github.com/mdlayher/netlink"
)

// decider decides one connection: true lets it through.
type decider interface{ decide(Conn) bool }

// verdict turns a decision into the nfqueue verdict and packet mark: an accepted packet is
// re-run through the hook (NF_REPEAT) with decidedMark added to its mark, so the rules after the
// agent's (kube-proxy's, Flannel's) still see it and the queue rules let it pass.
func verdict(allowed bool, mark uint32) (int, uint32) {
	if !allowed {
		return nfqueue.NfDrop, mark
	}
	return nfqueue.NfRepeat, mark | decidedMark
}

// openQueue binds the queue and decides every packet it receives until ctx ends.
func openQueue(ctx context.Context, logger *log.Logger, queue uint16, d decider) (*nfqueue.Nfqueue, error) {
	q, err := nfqueue.Open(&nfqueue.Config{
		NfQueue:      queue,
		MaxPacketLen: 128, // headers are enough
		MaxQueueLen:  1024,
		Copymode:     nfqueue.NfQnlCopyPacket,
		// A full queue, or an agent that is slow to answer, lets packets through rather than
		// cutting the node off.
		Flags:        nfqueue.NfQaCfgFlagFailOpen,
		WriteTimeout: 2 * time.Second,
		Logger:       logger,
	})
	if err != nil {
		return nil, err
	}
	// Kernel buffers that fill up must not end the loop.
	_ = q.SetOption(netlink.NoENOBUFS, true)
	hook := func(a nfqueue.Attribute) int {
		if a.PacketID == nil {
			return 0
		}
		allowed := true
		if a.Payload != nil {
			if conn, err := parsePacket(*a.Payload); err == nil {
				allowed = d.decide(conn)
				if !allowed {
					logger.Printf("netpol: denied %s %s -> %s:%d", conn.Protocol, conn.Src, conn.Dst, conn.DstPort)
				}
			}
		}
		var mark uint32
		if a.Mark != nil {
			mark = *a.Mark
		}
		v, m := verdict(allowed, mark)
		if err := q.SetVerdictWithMark(*a.PacketID, v, int(m)); err != nil {
			logger.Printf("netpol: verdict: %v", err)
		}
		return 0
	}
	onError := func(err error) int {
		if ctx.Err() != nil {
			return 1
		}
		logger.Printf("netpol: nfqueue: %v", err)
		return 0
	}
	if err := q.RegisterWithErrorFunc(ctx, hook, onError); err != nil {
		_ = q.Close()
		return nil, err
	}
	return q, nil
}
