package main

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func testPod(ns, name string, ip string, labels map[string]string, ports ...corev1.ContainerPort) Endpoint {
	return Endpoint{
		Addr: netip.MustParseAddr(ip),
		Pod: &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
		},
		NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": ns, "team": ns + "-team"},
		Local:           true,
	}
}

func remote(e Endpoint) Endpoint { e.Local = false; return e }

func external(ip string) Endpoint { return Endpoint{Addr: netip.MustParseAddr(ip)} }

func np(ns, name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func sel(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

func proto(p corev1.Protocol) *corev1.Protocol { return &p }
func num(n int32) *intstr.IntOrString          { v := intstr.FromInt32(n); return &v }
func named(s string) *intstr.IntOrString       { v := intstr.FromString(s); return &v }
func i32(n int32) *int32                       { return &n }

var (
	ingress = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egress  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	both    = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}

	web    = testPod("prod", "web", "10.244.1.10", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080}, corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP})
	client = testPod("prod", "client", "10.244.1.11", map[string]string{"role": "client"})
	other  = testPod("prod", "other", "10.244.1.12", map[string]string{"role": "other"})
	dev    = testPod("dev", "client", "10.244.2.20", map[string]string{"role": "client"})
	world  = external("203.0.113.7")
)

func tcp(src, dst Endpoint, port uint16) Conn {
	return Conn{Src: src.Addr, Dst: dst.Addr, Protocol: corev1.ProtocolTCP, DstPort: port}
}

func TestAllowed(t *testing.T) {
	denyIngress := np("prod", "deny-in", networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{}, PolicyTypes: ingress})
	denyEgress := np("prod", "deny-out", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "client"), PolicyTypes: egress})
	fromClients := func(peer networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) *networkingv1.NetworkPolicy {
		return np("prod", "allow", networkingv1.NetworkPolicySpec{
			PodSelector: *sel("app", "web"),
			PolicyTypes: ingress,
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{peer}, Ports: ports}},
		})
	}
	toPeer := func(peer networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) *networkingv1.NetworkPolicy {
		return np("prod", "allow-out", networkingv1.NetworkPolicySpec{
			PodSelector: *sel("role", "client"),
			PolicyTypes: egress,
			Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{peer}, Ports: ports}},
		})
	}
	tcpPort := func(p *intstr.IntOrString) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: proto(corev1.ProtocolTCP), Port: p}
	}

	cases := []struct {
		name     string
		conn     Conn
		src, dst Endpoint
		policies []*networkingv1.NetworkPolicy
		want     bool
	}{
		{"no policy lets everything through", tcp(client, web, 8080), client, web, nil, true},
		{"default deny ingress", tcp(client, web, 8080), client, web, []*networkingv1.NetworkPolicy{denyIngress}, false},
		{"default deny ingress from an external address", tcp(world, web, 8080), world, web, []*networkingv1.NetworkPolicy{denyIngress}, false},
		{"ingress deny in another namespace does not isolate", tcp(dev, web, 8080), dev, web,
			[]*networkingv1.NetworkPolicy{np("dev", "deny", networkingv1.NetworkPolicySpec{PolicyTypes: ingress})}, true},
		{"ingress is decided where the destination runs, not at a remote one", tcp(client, remote(web), 8080), client, remote(web),
			[]*networkingv1.NetworkPolicy{denyIngress}, true},
		{"egress deny blocks the selected pod", tcp(client, web, 8080), client, web, []*networkingv1.NetworkPolicy{denyEgress}, false},
		{"egress deny leaves other pods alone", tcp(other, web, 8080), other, web, []*networkingv1.NetworkPolicy{denyEgress}, true},
		{"egress is decided where the source runs", tcp(remote(client), web, 8080), remote(client), web, []*networkingv1.NetworkPolicy{denyEgress}, true},
		{"egress deny to the outside", tcp(client, world, 443), client, world, []*networkingv1.NetworkPolicy{denyEgress}, false},
		{"ingress deny does not isolate egress", tcp(web, world, 443), web, world, []*networkingv1.NetworkPolicy{denyIngress}, true},
		{"no policyTypes means Ingress", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{np("prod", "p", networkingv1.NetworkPolicySpec{})}, false},
		{"no policyTypes with egress rules means Egress too", tcp(client, world, 443), client, world,
			[]*networkingv1.NetworkPolicy{np("prod", "p", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "client"),
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", "web")}}}}})}, false},
		{"no policyTypes with egress rules allows its peers", tcp(client, web, 1), client, web,
			[]*networkingv1.NetworkPolicy{np("prod", "p", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "client"),
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("app", "web")}}}}})}, true},
		{"pod selector allows a matching pod", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{denyIngress, fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel("role", "client")})}, true},
		{"pod selector refuses another pod", tcp(other, web, 8080), other, web,
			[]*networkingv1.NetworkPolicy{denyIngress, fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel("role", "client")})}, false},
		{"pod selector alone means the policy's namespace", tcp(dev, web, 8080), dev, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel("role", "client")})}, false},
		{"namespace selector allows every pod of the namespace", tcp(dev, web, 8080), dev, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("team", "dev-team")})}, true},
		{"namespace selector refuses other namespaces", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("team", "dev-team")})}, false},
		{"empty namespace selector means every namespace", tcp(dev, web, 8080), dev, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})}, true},
		{"namespace selector never matches an external address", tcp(world, web, 8080), world, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})}, false},
		{"both selectors: pod in a matching namespace", tcp(dev, web, 8080), dev, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("kubernetes.io/metadata.name", "dev"), PodSelector: sel("role", "client")})}, true},
		{"both selectors: right namespace, wrong pod", tcp(dev, web, 8080), dev, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("kubernetes.io/metadata.name", "dev"), PodSelector: sel("role", "other")})}, false},
		{"both selectors: right pod labels, wrong namespace", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("kubernetes.io/metadata.name", "dev"), PodSelector: sel("role", "client")})}, false},
		{"matchExpressions", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "role", Operator: metav1.LabelSelectorOpIn, Values: []string{"client", "x"}}}}})}, true},
		{"ipBlock allows an address in the CIDR", tcp(world, web, 8080), world, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24"}})}, true},
		{"ipBlock refuses an address in an exception", tcp(world, web, 8080), world, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24", Except: []string{"203.0.113.0/29"}}})}, false},
		{"ipBlock refuses an address outside the CIDR", tcp(world, web, 8080), world, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.0/24"}})}, false},
		{"ipBlock matches pod addresses too", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.244.0.0/16"}})}, true},
		{"egress ipBlock allows the outside", tcp(client, world, 443), client, world,
			[]*networkingv1.NetworkPolicy{toPeer(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}})}, true},
		{"egress ipBlock except refuses pods", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{toPeer(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}})}, false},
		{"port number matches", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, tcpPort(num(8080)))}, true},
		{"port number refuses another port", tcp(client, web, 8081), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, tcpPort(num(8080)))}, false},
		{"port protocol defaults to TCP", Conn{Src: client.Addr, Dst: web.Addr, Protocol: corev1.ProtocolUDP, DstPort: 8080}, client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, networkingv1.NetworkPolicyPort{Port: num(8080)})}, false},
		{"UDP port", Conn{Src: client.Addr, Dst: web.Addr, Protocol: corev1.ProtocolUDP, DstPort: 53}, client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, networkingv1.NetworkPolicyPort{Protocol: proto(corev1.ProtocolUDP), Port: num(53)})}, true},
		{"SCTP with no port means every SCTP port", Conn{Src: client.Addr, Dst: web.Addr, Protocol: corev1.ProtocolSCTP, DstPort: 9}, client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, networkingv1.NetworkPolicyPort{Protocol: proto(corev1.ProtocolSCTP)})}, true},
		{"endPort range includes its ends", tcp(client, web, 9000), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, networkingv1.NetworkPolicyPort{Port: num(8000), EndPort: i32(9000)})}, true},
		{"endPort range excludes past its end", tcp(client, web, 9001), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, networkingv1.NetworkPolicyPort{Port: num(8000), EndPort: i32(9000)})}, false},
		{"named port on the destination pod (ingress)", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, tcpPort(named("http")))}, true},
		{"named port refuses another port", tcp(client, web, 9090), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, tcpPort(named("http")))}, false},
		{"named port needs the protocol to match", tcp(client, web, 53), client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, tcpPort(named("dns")))}, false},
		{"named port on the peer pod (egress)", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{toPeer(networkingv1.NetworkPolicyPeer{PodSelector: sel()}, tcpPort(named("http")))}, true},
		{"named port cannot match an external destination", tcp(client, world, 8080), client, world,
			[]*networkingv1.NetworkPolicy{toPeer(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}, tcpPort(named("http")))}, false},
		{"rule with ports and no peers allows every peer on those ports", tcp(world, web, 8080), world, web,
			[]*networkingv1.NetworkPolicy{np("prod", "p", networkingv1.NetworkPolicySpec{PodSelector: *sel("app", "web"), PolicyTypes: ingress,
				Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{tcpPort(num(8080))}}}})}, true},
		{"policies add up: one allowing is enough", tcp(other, web, 8080), other, web,
			[]*networkingv1.NetworkPolicy{denyIngress, fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel("role", "client")}),
				np("prod", "p2", networkingv1.NetworkPolicySpec{PodSelector: *sel("app", "web"), Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("role", "other")}}}}})}, true},
		{"both ends local: egress allowed, ingress denied", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{toPeer(networkingv1.NetworkPolicyPeer{PodSelector: sel()}), denyIngress}, false},
		{"both types in one policy", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{np("prod", "p", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "client"), PolicyTypes: both})}, false},
		{"a non-port protocol passes a rule with no ports", Conn{Src: client.Addr, Dst: web.Addr}, client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel("role", "client")})}, true},
		{"a non-port protocol fails a rule with ports", Conn{Src: client.Addr, Dst: web.Addr}, client, web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{PodSelector: sel("role", "client")}, tcpPort(num(8080)))}, false},
		{"an invalid selector selects nothing", tcp(client, web, 8080), client, web,
			[]*networkingv1.NetworkPolicy{np("prod", "bad", networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}})}, true},
		{"IPv6 ipBlock", Conn{Src: netip.MustParseAddr("2001:db8::1"), Dst: web.Addr, Protocol: corev1.ProtocolTCP, DstPort: 8080}, external("2001:db8::1"), web,
			[]*networkingv1.NetworkPolicy{fromClients(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "2001:db8::/32"}})}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Allowed(tc.conn, tc.src, tc.dst, tc.policies); got != tc.want {
				t.Errorf("Allowed = %v, want %v", got, tc.want)
			}
		})
	}
}
