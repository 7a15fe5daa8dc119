package main

import (
	"encoding/binary"
	"errors"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// IP protocol numbers the verdict knows ports of.
const (
	protoTCP  = 6
	protoUDP  = 17
	protoSCTP = 132
)

// IPv6 extension headers that parsePacket skips to reach the transport header.
var ipv6Extensions = map[byte]bool{0: true, 43: true, 60: true} // hop-by-hop, routing, destination

var errShort = errors.New("packet too short")

// parsePacket reads the addresses, the transport protocol and its destination port from a raw
// IPv4 or IPv6 packet as nfqueue hands it over (starting at the IP header).
func parsePacket(b []byte) (Conn, error) {
	if len(b) < 1 {
		return Conn{}, errShort
	}
	var c Conn
	var proto byte
	var rest []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return Conn{}, errShort
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return Conn{}, errors.New("bad IPv4 header length")
		}
		c.Src = netip.AddrFrom4([4]byte(b[12:16]))
		c.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		proto = b[9]
		// A non-first fragment carries no transport header.
		if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 {
			return c, nil
		}
		rest = b[ihl:]
	case 6:
		if len(b) < 40 {
			return Conn{}, errShort
		}
		c.Src = netip.AddrFrom16([16]byte(b[8:24]))
		c.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		proto = b[6]
		rest = b[40:]
		for ipv6Extensions[proto] {
			if len(rest) < 8 {
				return Conn{}, errShort
			}
			n := (int(rest[1]) + 1) * 8
			if len(rest) < n {
				return Conn{}, errShort
			}
			proto, rest = rest[0], rest[n:]
		}
	default:
		return Conn{}, errors.New("not an IP packet")
	}
	switch proto {
	case protoTCP:
		c.Protocol = corev1.ProtocolTCP
	case protoUDP:
		c.Protocol = corev1.ProtocolUDP
	case protoSCTP:
		c.Protocol = corev1.ProtocolSCTP
	default:
		return c, nil
	}
	if len(rest) < 4 {
		return Conn{}, errShort
	}
	c.DstPort = binary.BigEndian.Uint16(rest[2:4])
	return c, nil
}
