package main

import (
	"net/netip"
	"testing"

	"github.com/florianl/go-nfqueue"
	corev1 "k8s.io/api/core/v1"
)

func ipv4(proto byte, flagsFrag uint16, transport []byte) []byte {
	h := []byte{0x45, 0, 0, 0, 0, 0, byte(flagsFrag >> 8), byte(flagsFrag), 64, proto, 0, 0, 10, 244, 1, 10, 10, 244, 2, 20}
	return append(h, transport...)
}

// withOptions turns the first 4 bytes after the header into an IPv4 option (IHL 6).
func withOptions(p []byte) []byte {
	p[0] = 0x46
	return p
}

func ipv6(next byte, rest []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	h[6] = next
	copy(h[8:24], netip.MustParseAddr("fd00::1").AsSlice())
	copy(h[24:40], netip.MustParseAddr("fd00::2").AsSlice())
	return append(h, rest...)
}

func TestParsePacket(t *testing.T) {
	ports := []byte{0x30, 0x39, 0x1f, 0x90} // 12345 -> 8080
	v4src, v4dst := netip.MustParseAddr("10.244.1.10"), netip.MustParseAddr("10.244.2.20")
	cases := []struct {
		name    string
		packet  []byte
		want    Conn
		wantErr bool
	}{
		{"IPv4 TCP", ipv4(6, 0x4000, ports), Conn{v4src, v4dst, corev1.ProtocolTCP, 8080}, false},
		{"IPv4 UDP", ipv4(17, 0, ports), Conn{v4src, v4dst, corev1.ProtocolUDP, 8080}, false},
		{"IPv4 SCTP", ipv4(132, 0, ports), Conn{v4src, v4dst, corev1.ProtocolSCTP, 8080}, false},
		{"IPv4 ICMP has no port", ipv4(1, 0, []byte{8, 0, 0, 0}), Conn{v4src, v4dst, "", 0}, false},
		{"IPv4 later fragment has no port", ipv4(6, 0x0010, ports), Conn{v4src, v4dst, "", 0}, false},
		{"IPv4 options are skipped", withOptions(ipv4(6, 0, append([]byte{1, 1, 1, 1}, ports...))), Conn{v4src, v4dst, corev1.ProtocolTCP, 8080}, false},
		{"IPv4 truncated transport", ipv4(6, 0, []byte{1}), Conn{}, true},
		{"IPv4 truncated header", []byte{0x45, 0, 0}, Conn{}, true},
		{"IPv6 TCP", ipv6(6, ports), Conn{netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2"), corev1.ProtocolTCP, 8080}, false},
		{"IPv6 UDP behind a hop-by-hop header", ipv6(0, append([]byte{17, 0, 0, 0, 0, 0, 0, 0}, ports...)), Conn{netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2"), corev1.ProtocolUDP, 8080}, false},
		{"IPv6 extension header longer than the packet", ipv6(0, []byte{17, 5, 0, 0, 0, 0, 0, 0}), Conn{}, true},
		{"not IP", []byte{0x20, 0, 0}, Conn{}, true},
		{"empty", nil, Conn{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePacket(tc.packet)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	if v, m := verdict(false, 0x4000); v != nfqueue.NfDrop || m != 0x4000 {
		t.Errorf("denied: %d %#x", v, m)
	}
	// Accepted packets go round FORWARD again with kube-proxy's mark bits kept.
	if v, m := verdict(true, 0x4000); v != nfqueue.NfRepeat || m != 0x4000|decidedMark {
		t.Errorf("allowed: %d %#x", v, m)
	}
}
