package main

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Conn is the first packet of a connection, as the verdict needs it.
type Conn struct {
	Src, Dst netip.Addr
	Protocol corev1.Protocol // TCP, UDP or SCTP; "" for any other protocol (no ports)
	DstPort  uint16
}

// Endpoint is one side of a connection: an address and, when the address is a pod's, the pod and
// the labels of its namespace. Local tells whether the pod runs on this node: each node decides
// only for its own pods (egress where the source runs, ingress where the destination runs).
type Endpoint struct {
	Addr            netip.Addr
	Pod             *corev1.Pod
	NamespaceLabels map[string]string
	Local           bool
}

// Allowed decides a connection from src to dst under every NetworkPolicy of the cluster: a local
// source pod's egress and a local destination pod's ingress must both let it through. A pod that
// no policy of a type selects is not isolated for that type and lets everything through.
func Allowed(c Conn, src, dst Endpoint, policies []*networkingv1.NetworkPolicy) bool {
	if src.Local && src.Pod != nil && !allowedBy(networkingv1.PolicyTypeEgress, c, src, dst, policies) {
		return false
	}
	if dst.Local && dst.Pod != nil && !allowedBy(networkingv1.PolicyTypeIngress, c, dst, src, policies) {
		return false
	}
	return true
}

// allowedBy evaluates the policies of one type for `subject` (the pod they may select) talking
// with `peer` (the other side).
func allowedBy(kind networkingv1.PolicyType, c Conn, subject, peer Endpoint, policies []*networkingv1.NetworkPolicy) bool {
	isolated := false
	for _, p := range policies {
		if p.Namespace != subject.Pod.Namespace || !hasType(p, kind) || !selects(&p.Spec.PodSelector, subject.Pod.Labels) {
			continue
		}
		isolated = true
		if kind == networkingv1.PolicyTypeIngress {
			for i := range p.Spec.Ingress {
				r := &p.Spec.Ingress[i]
				if peersMatch(r.From, p.Namespace, peer) && portsMatch(r.Ports, c, subject.Pod) {
					return true
				}
			}
		} else {
			for i := range p.Spec.Egress {
				r := &p.Spec.Egress[i]
				if peersMatch(r.To, p.Namespace, peer) && portsMatch(r.Ports, c, peer.Pod) {
					return true
				}
			}
		}
	}
	return !isolated
}

// hasType applies the API's defaulting: with no policyTypes, a policy is of type Ingress, and of
// type Egress too when it has egress rules.
func hasType(p *networkingv1.NetworkPolicy, kind networkingv1.PolicyType) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return kind == networkingv1.PolicyTypeIngress || len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		if t == kind {
			return true
		}
	}
	return false
}

// selects reports whether a label selector matches a label set; an invalid selector matches
// nothing (the API server validates selectors, so this does not happen in practice).
func selects(s *metav1.LabelSelector, set map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(set))
}

// peersMatch: no peers means every peer; otherwise one of them must match.
func peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNamespace string, peer Endpoint) bool {
	return noneOrAny(peers, func(p *networkingv1.NetworkPolicyPeer) bool { return peerMatches(p, policyNamespace, peer) })
}

// noneOrAny is the API's rule for peer and port lists: an empty list matches everything,
// otherwise one entry must match.
func noneOrAny[T any](items []T, match func(*T) bool) bool {
	if len(items) == 0 {
		return true
	}
	for i := range items {
		if match(&items[i]) {
			return true
		}
	}
	return false
}

func peerMatches(p *networkingv1.NetworkPolicyPeer, policyNamespace string, peer Endpoint) bool {
	if p.IPBlock != nil {
		return inBlock(p.IPBlock, peer.Addr)
	}
	if peer.Pod == nil || (p.PodSelector == nil && p.NamespaceSelector == nil) {
		return false
	}
	if p.NamespaceSelector != nil {
		if !selects(p.NamespaceSelector, peer.NamespaceLabels) {
			return false
		}
	} else if peer.Pod.Namespace != policyNamespace {
		// A podSelector alone selects pods of the policy's own namespace.
		return false
	}
	return p.PodSelector == nil || selects(p.PodSelector, peer.Pod.Labels)
}

// inBlock: the address is in the CIDR and in none of its exceptions.
func inBlock(b *networkingv1.IPBlock, addr netip.Addr) bool {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil || !cidr.Contains(addr) {
		return false
	}
	for _, e := range b.Except {
		if except, err := netip.ParsePrefix(e); err == nil && except.Contains(addr) {
			return false
		}
	}
	return true
}

// portsMatch: no ports means every port and protocol; otherwise one entry must match the
// connection's protocol and destination port. `target` is the destination pod (for named ports:
// the subject for ingress, the peer for egress), nil when the destination is no known pod.
func portsMatch(ports []networkingv1.NetworkPolicyPort, c Conn, target *corev1.Pod) bool {
	return noneOrAny(ports, func(p *networkingv1.NetworkPolicyPort) bool { return portMatches(p, c, target) })
}

func portMatches(p *networkingv1.NetworkPolicyPort, c Conn, target *corev1.Pod) bool {
	protocol := corev1.ProtocolTCP
	if p.Protocol != nil {
		protocol = *p.Protocol
	}
	if c.Protocol != protocol {
		return false
	}
	if p.Port == nil {
		return true
	}
	if p.Port.Type == intstr.String { // a named container port of the destination pod
		number, ok := namedPort(target, p.Port.StrVal, protocol)
		return ok && number == int32(c.DstPort)
	}
	start := p.Port.IntVal
	end := start
	if p.EndPort != nil && *p.EndPort >= start {
		end = *p.EndPort
	}
	port := int32(c.DstPort)
	return port >= start && port <= end
}

// namedPort finds a container port of the pod by name and protocol.
func namedPort(pod *corev1.Pod, name string, protocol corev1.Protocol) (int32, bool) {
	if pod == nil {
		return 0, false
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, container := range list {
			for _, port := range container.Ports {
				proto := port.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				if port.Name == name && proto == protocol {
					return port.ContainerPort, true
				}
			}
		}
	}
	return 0, false
}
